/**
 * @ssmjs/mamba — the Mamba language model: config, parallel and recurrent paths, Hugging Face
 * checkpoint IO, generation.
 */
export { ConfigError } from './errors';
export { MambaConfig, type MambaConfigInit } from './config';
export { MambaLM, type FromPretrainedOptions, type GenerateOptions, type PromptIds } from './model';
export { MambaCache } from './cache';
export { parameterShapes, checkWeights, type HostWeight } from './weights';
export type { PretrainedSource, InMemoryCheckpoint, CheckpointTarget, CheckpointWriter } from './io';
export { sampleToken, samplingDistribution, applyRepetitionPenalty, argmax, validateSampling, type SamplingOptions } from './sampling';
