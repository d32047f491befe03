/**
 * HiPPO transition matrices and their normal-plus-low-rank (NPLR) form, with the conventions of
 * state-spaces/s4 (`transition`, `rank_correction`, `nplr`): A is already negative (x' = A x + B u),
 * LegT is halved, Fourier is the 'fout' variant with its rank-one correction subtracted.
 */
import type { ComplexArray } from './complex';
import { complexZeros } from './complex';
import { eigHermitian } from './eigh';
import { HippoError, checkSize } from './errors';

/** The HiPPO measures this package knows. */
export type HippoKind = 'legs' | 'legt' | 'lagt' | 'fourier';

/** A continuous-time SSM input pair x' = A x + B u. */
export interface HippoMatrices {
  /** Row-major N×N. */
  A: Float64Array;
  /** Length N. */
  B: Float64Array;
}

const KINDS: readonly HippoKind[] = ['legs', 'legt', 'lagt', 'fourier'];

function checkKind(fn: string, kind: string): asserts kind is HippoKind {
  if (!(KINDS as readonly string[]).includes(kind)) {
    throw new HippoError('VALUE', `${fn}: kind must be one of ${KINDS.join(', ')}, got '${kind}'`);
  }
}

/**
 * The HiPPO matrices (A, B) of size N for a measure:
 * - `legs` (scaled Legendre): A_nk = −√(2n+1)√(2k+1) below the diagonal, −(n+1) on it, 0 above; B_n = √(2n+1).
 * - `legt` (translated Legendre, window 2 after the repository's halving):
 *   A_nk = −½√(2n+1)√(2k+1)·(1 if n ≥ k else (−1)^{n−k}); B_n = ½√(2n+1).
 * - `lagt` (translated Laguerre, β = 1): A = I/2 − tril(1); B = 1.
 * - `fourier` (the repository's 'fout'): 2×2 rotation blocks at frequencies πk, minus B Bᵀ, with
 *   B = (1, 0, √2, 0, √2, 0, …).
 */
export function hippo(kind: HippoKind, N: number): HippoMatrices {
  checkKind('hippo', kind);
  checkSize('hippo', 'N', N);
  const A = new Float64Array(N * N);
  const B = new Float64Array(N);
  switch (kind) {
    case 'legs':
      for (let n = 0; n < N; n++) {
        B[n] = Math.sqrt(2 * n + 1);
        for (let k = 0; k < n; k++) A[n * N + k] = -Math.sqrt((2 * n + 1) * (2 * k + 1));
        A[n * N + n] = -(n + 1);
      }
      break;
    case 'legt':
      for (let n = 0; n < N; n++) {
        B[n] = 0.5 * Math.sqrt(2 * n + 1);
        for (let k = 0; k < N; k++) {
          const sign = n >= k || (k - n) % 2 === 0 ? 1 : -1;
          A[n * N + k] = -0.5 * sign * Math.sqrt((2 * n + 1) * (2 * k + 1));
        }
      }
      break;
    case 'lagt':
      for (let n = 0; n < N; n++) {
        B[n] = 1;
        for (let k = 0; k < n; k++) A[n * N + k] = -1;
        A[n * N + n] = -0.5;
      }
      break;
    case 'fourier': {
      for (let n = 0; n < N; n += 2) B[n] = n === 0 ? 1 : Math.SQRT2;
      // States (2j, 2j+1) for j ≥ 1 rotate at frequency πj; states 0 and 1 have frequency 0.
      for (let j = 1; 2 * j + 1 < N; j++) {
        A[(2 * j) * N + 2 * j + 1] = -Math.PI * j;
        A[(2 * j + 1) * N + 2 * j] = Math.PI * j;
      }
      for (let n = 0; n < N; n++) for (let k = 0; k < N; k++) A[n * N + k] -= B[n] * B[k];
      break;
    }
  }
  return { A, B };
}

/** The rank of the correction each measure needs (LegT needs two terms). */
export function minimumRank(kind: HippoKind): number {
  checkKind('minimumRank', kind);
  return kind === 'legt' ? 2 : 1;
}

/**
 * The low-rank P (row-major rank×N, real) such that A + Pᵀ P = A + Σ_r p_r p_rᵀ is normal
 * (a multiple of I plus a skew-symmetric matrix). Rows beyond the measure's own rank are zero.
 * - `legs`: p = √(n + ½).  - `legt` (rank ≥ 2): √((2n+1)/2) on odd n, then on even n.
 * - `lagt`: p = √½.        - `fourier`: p = B.
 */
export function rankCorrection(kind: HippoKind, N: number, rank = 1): Float64Array {
  checkKind('rankCorrection', kind);
  checkSize('rankCorrection', 'N', N);
  checkSize('rankCorrection', 'rank', rank);
  if (rank < minimumRank(kind)) {
    throw new HippoError('VALUE', `rankCorrection: '${kind}' needs rank >= ${minimumRank(kind)}, got ${rank}`);
  }
  const P = new Float64Array(rank * N);
  for (let n = 0; n < N; n++) {
    switch (kind) {
      case 'legs':
        P[n] = Math.sqrt(n + 0.5);
        break;
      case 'legt':
        // The repository zeroes the even entries of the first row and the odd entries of the second,
        // and halves the product (√½ on each factor) as A itself was halved.
        P[(n % 2 === 1 ? 0 : 1) * N + n] = Math.sqrt((2 * n + 1) / 2);
        break;
      case 'lagt':
        P[n] = Math.SQRT1_2;
        break;
      case 'fourier':
        P[n] = n % 2 === 1 ? 0 : n === 0 ? 1 : Math.SQRT2;
        break;
    }
  }
  return P;
}

/** Options of `nplr`. */
export interface NplrOptions {
  /** Rank of the low-rank term (default: 1, or 2 for 'legt'). */
  rank?: number;
  /**
   * Clamp the imaginary part of B̃ to [−bClip, bClip], as the repository does by default (2.0).
   * `null` keeps B̃ = V* B exact.
   */
  bClip?: number | null;
}

/**
 * The NPLR / DPLR form of a HiPPO matrix, in the half-spectrum convention of state-spaces/s4:
 * with V_full = [V, conj(V)] unitary and W_full = [W, conj(W)],
 *   A = V_full (diag W_full − P̃_full P̃_full*) V_full*,  i.e.  A + Pᵀ P = 2·Re(V diag(W) V*),
 *   B = 2·Re(V B̃),  P = 2·Re(V P̃).
 */
export interface Nplr {
  /** N/2 eigenvalues of the normal part, imaginary parts ascending (≤ 0). */
  W: ComplexArray;
  /** Row-major rank×(N/2): P̃ = V* P for each row of P. */
  P: ComplexArray;
  /** Length N/2: B̃ = V* B (imaginary part clipped if `bClip` is set). */
  B: ComplexArray;
  /** Row-major N×(N/2): the eigenvectors kept, one per column (each unique up to a phase). */
  V: ComplexArray;
}

/** Relative size of AP + APᵀ − c·I allowed before a matrix does not count as "normal" here. */
const SKEW_TOLERANCE = 1e-10;
/** Eigenvalues smaller than this count as zero (the repository's threshold). */
const ZERO_EIGENVALUE = 1e-4;

/**
 * Diagonalizes the normal part of a HiPPO matrix. With AP = A + Pᵀ P = c·I + S (S skew-symmetric):
 * W's real part is c (the mean of AP's diagonal); its imaginary parts are the eigenvalues of the Hermitian
 * −i·S, found here in float64. Of each conjugate pair the half with negative imaginary part is kept
 * (sorting ascending and taking the first N/2). Fourier has a double zero eigenvalue (states 0 and 1);
 * its kept vector is (e₀ + i e₁)/√2, as in the repository.
 */
export function nplr(kind: HippoKind, N: number, options: NplrOptions = {}): Nplr {
  checkKind('nplr', kind);
  checkSize('nplr', 'N', N, true);
  const rank = options.rank ?? minimumRank(kind);
  const bClip = options.bClip === undefined ? 2.0 : options.bClip;
  const { A, B } = hippo(kind, N);
  const P = rankCorrection(kind, N, rank);

  const AP = Float64Array.from(A);
  for (let r = 0; r < rank; r++) {
    for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) AP[i * N + j] += P[r * N + i] * P[r * N + j];
  }
  let meanDiagonal = 0;
  for (let i = 0; i < N; i++) meanDiagonal += AP[i * N + i] / N;
  let asymmetry = 0;
  let scale = 0;
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < N; j++) {
      const sym = AP[i * N + j] + AP[j * N + i] - (i === j ? 2 * meanDiagonal : 0);
      asymmetry = Math.max(asymmetry, Math.abs(sym));
      scale = Math.max(scale, Math.abs(AP[i * N + j]));
    }
  }
  if (asymmetry > SKEW_TOLERANCE * Math.max(scale, 1)) {
    throw new HippoError('NUMERIC', `nplr: A + PᵀP for '${kind}' is not identity plus skew-symmetric (off by ${asymmetry})`);
  }

  // −i·AP restricted to its lower triangle (the diagonal's imaginary part is dropped, as eigh does).
  const hermitian = complexZeros(N * N);
  for (let i = 0; i < N; i++) for (let j = 0; j < i; j++) hermitian.im[i * N + j] = -AP[i * N + j];
  const { values, vectors } = eigHermitian(hermitian, N);

  const half = N / 2;
  const W = complexZeros(half);
  const V = complexZeros(N * half);
  for (let k = 0; k < half; k++) {
    W.re[k] = meanDiagonal;
    W.im[k] = values[k];
    // The solver's first eigenvector components are real (its reflections never touch row 0), as LAPACK's
    // are; fixing their sign to ≥ 0 makes V equal to LAPACK's eigh output under the same sign rule.
    const sign = vectors.re[k] < 0 ? -1 : 1;
    for (let row = 0; row < N; row++) {
      V.re[row * half + k] = sign * vectors.re[row * N + k];
      V.im[row * half + k] = sign * vectors.im[row * N + k];
    }
  }
  const magnitude = (k: number) => Math.hypot(W.re[k], W.im[k]);
  if (half >= 2 && magnitude(half - 2) <= ZERO_EIGENVALUE) {
    throw new HippoError('NUMERIC', `nplr: '${kind}' has more than one zero eigenvalue pair; only one is supported`);
  }
  if (magnitude(half - 1) < ZERO_EIGENVALUE) {
    // The zero eigenspace is span(e₀, e₁); represent it by one complex vector whose real-part pair spans it.
    for (let row = 0; row < N; row++) {
      V.re[row * half + half - 1] = 0;
      V.im[row * half + half - 1] = 0;
    }
    V.re[half - 1] = Math.SQRT1_2;
    if (N > 1) V.im[half + half - 1] = Math.SQRT1_2;
  }

  const Bt = conjugateTransposeApply(V, N, half, B, 1);
  const Pt = conjugateTransposeApply(V, N, half, P, rank);
  if (bClip !== null) {
    for (let k = 0; k < half; k++) Bt.im[k] = Math.min(bClip, Math.max(-bClip, Bt.im[k]));
  }
  return { W, P: Pt, B: Bt, V };
}

/** Rows of V* x for each of `count` real vectors x (row-major count×N); result count×half. */
function conjugateTransposeApply(V: ComplexArray, N: number, half: number, x: Float64Array, count: number): ComplexArray {
  const out = complexZeros(count * half);
  for (let c = 0; c < count; c++) {
    for (let k = 0; k < half; k++) {
      let re = 0;
      let im = 0;
      for (let row = 0; row < N; row++) {
        const value = x[c * N + row];
        re += V.re[row * half + k] * value;
        im -= V.im[row * half + k] * value;
      }
      out.re[c * half + k] = re;
      out.im[c * half + k] = im;
    }
  }
  return out;
}
