/**
 * @ssmjs/hippo — HiPPO transition matrices, their NPLR/DPLR form, S4D initializations and
 * discretization, in plain float64 (Float64Array; complex numbers as `{ re, im }` pairs).
 */
export { HippoError } from './errors';
export type { ComplexArray } from './complex';
export { complexZeros, complexFromReal, complexAbs } from './complex';
export type { HermitianEigen } from './eigh';
export { eigHermitian } from './eigh';
export { identity, matmul, matvec, transpose, solve, luFactor, luSolve, expm, norm1 } from './linalg';
export type { LU } from './linalg';
export type { HippoKind, HippoMatrices, Nplr, NplrOptions } from './hippo';
export { hippo, rankCorrection, minimumRank, nplr } from './hippo';
export type { S4DKind, S4DInit, S4DInitOptions } from './s4d';
export { s4dInit } from './s4d';
export type { DiscretizationMethod, DiscreteDiagonal, DiscreteDense } from './discretize';
export { discretizeDiagonal, discretizeDense, runDense } from './discretize';
export { fft, irfft, fftConvolve } from './fft';
export type { DiagonalSsm, DplrSsm, DenseComplexSsm } from './kernels';
export {
  s4dKernel,
  s4dRecurrence,
  dplrKernel,
  dplrCTilde,
  dplrCFromTilde,
  dplrToDense,
  denseRecurrence,
  unrollKernel,
  complexSolve,
  complexMatmul,
} from './kernels';
