/**
 * @ssmjs/eval — how good a model is, with lm-evaluation-harness's conventions, the Mamba paper's
 * synthetic tasks, and the benchmark harness of the workspace.
 */
export * from './model';
export * from './metrics';
export * from './loglikelihood';
export * from './tasks';
export * from './synthetic';
export * from './bench';
