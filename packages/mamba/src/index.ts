/**
 * @ssmjs/mamba — the Mamba language model: config, parallel and recurrent paths, Hugging Face
 * checkpoint IO, generation.
 */
export { ConfigError } from './errors';
export { MambaConfig, type MambaConfigInit } from './config';
