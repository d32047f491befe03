/**
 * @ssmjs/s4 — S4 and S4D layers on @ssmjs/core tensors: trainable Vandermonde (S4D) and Cauchy (S4) kernels,
 * FFT convolution, recurrent steps for generation, and an LTI mixer for the Mamba block.
 */
export type { Complex } from './complex';
export * as complex from './complex';
export { s4dKernel, dplrKernel, discretizeDiagonal, type Discretization, type DiagonalParams, type DplrParams } from './kernels';
export { fftConv } from './fftconv';
