export { Optimizer, type OptimizerState } from './optimizer';
export { AdamW, type AdamWOptions } from './adamw';
export { SGD, type SGDOptions } from './sgd';
export { clipGradNorm } from './clip';
export { warmupCosine, type WarmupCosineOptions } from './schedule';
