export { Module, ModuleList, Parameter, StateDictError, type LoadStateDictOptions } from './module';
export { Linear, Embedding, RMSNorm, Conv1d, type InitOptions } from './layers';
export { valueAndGradsOf } from './train';
