/**
 * @ssmjs/s4 — S4 and S4D layers on @ssmjs/core tensors: trainable Vandermonde (S4D) and Cauchy (S4) kernels,
 * FFT convolution, recurrent steps for generation, and an LTI mixer for the Mamba block.
 */
export type { Complex } from './complex';
export * as complex from './complex';
export { s4dKernel, dplrKernel, s4dFinalState, discretizeDiagonal, type Discretization, type DiagonalParams, type DplrParams } from './kernels';
export { fftConv } from './fftconv';
export { S4DKernel, S4Kernel, type SsmKernel, type SsmInitOptions, type S4DKernelOptions, type S4KernelOptions } from './ssm';
export { S4DLayer, S4Layer, LtiState, glu, type LtiLayerOptions, type S4DLayerOptions, type S4LayerOptions } from './layers';
export { LtiMixer, LtiMixerState, type LtiMixerOptions } from './mixer';
