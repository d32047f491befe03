/**
 * Convolution kernels of linear time-invariant SSMs in float64 (the numerics behind S4 and S4D):
 * - `s4dKernel`: diagonal A, by a Vandermonde product, with ZOH or bilinear discretization;
 * - `dplrKernel`: A = diag(Λ) − P P* (S4), by the truncated generating function at the L-th roots of unity,
 *   the Cauchy kernel and the Woodbury identity, then an inverse FFT.
 * Both use state-spaces/s4's half-spectrum convention: the N/2 modes given stand with their conjugates for a
 * real system of size N, and y = 2·Re(C x). Products are Cᵀ… (no conjugation of C), as in the repository.
 */
import type { ComplexArray } from './complex';
import { complexZeros } from './complex';
import type { DiscretizationMethod } from './discretize';
import { discretizeDiagonal } from './discretize';
import { HippoError, checkLength, checkSize } from './errors';
import { irfft } from './fft';

/** Parameters of one diagonal SSM: N/2 complex modes. */
export interface DiagonalSsm {
  A: ComplexArray;
  B: ComplexArray;
  C: ComplexArray;
  /** Step size (> 0). */
  dt: number;
}

/**
 * The length-L kernel K_l = 2·Re Σ_n C_n B̄_n Ā_n^l of a diagonal SSM (Ā, B̄ by `method`), so that
 * y_k = Σ_l K_l u_{k−l}. Powers are evaluated as exp(l·log Ā) (exp(l·dt·A) for ZOH), never by repeated products.
 */
export function s4dKernel(ssm: DiagonalSsm & { L: number; method: DiscretizationMethod }): Float64Array {
  const { A, B, C, dt, L, method } = ssm;
  checkSize('s4dKernel', 'L', L);
  const half = A.re.length;
  checkLength('s4dKernel', 'C.re', C.re, half);
  checkLength('s4dKernel', 'C.im', C.im, half);
  const { dA, dB } = discretizeDiagonal(A, B, dt, method);
  const kernel = new Float64Array(L);
  for (let n = 0; n < half; n++) {
    // log Ā: for ZOH exactly dt·A (keeps the phase unwrapped); for bilinear the principal log.
    const logRe = method === 'zoh' ? dt * A.re[n] : Math.log(Math.hypot(dA.re[n], dA.im[n]));
    const logIm = method === 'zoh' ? dt * A.im[n] : Math.atan2(dA.im[n], dA.re[n]);
    const wr = C.re[n] * dB.re[n] - C.im[n] * dB.im[n];
    const wi = C.re[n] * dB.im[n] + C.im[n] * dB.re[n];
    for (let l = 0; l < L; l++) {
      const magnitude = Math.exp(l * logRe);
      const angle = l * logIm;
      kernel[l] += 2 * magnitude * (wr * Math.cos(angle) - wi * Math.sin(angle));
    }
  }
  return kernel;
}

/** Parameters of one DPLR SSM: A = diag(Λ) − P P* over the conjugate-paired spectrum. */
export interface DplrSsm {
  /** Λ: N/2 complex diagonal entries. */
  A: ComplexArray;
  /** Row-major rank×(N/2). */
  P: ComplexArray;
  B: ComplexArray;
  C: ComplexArray;
  dt: number;
}

function checkDplr(fn: string, ssm: DplrSsm): { half: number; rank: number } {
  const half = ssm.A.re.length;
  checkSize(fn, 'N/2', half);
  for (const [name, array, length] of [
    ['A.im', ssm.A.im, half],
    ['B.re', ssm.B.re, half],
    ['B.im', ssm.B.im, half],
    ['C.re', ssm.C.re, half],
    ['C.im', ssm.C.im, half],
  ] as const) {
    checkLength(fn, name, array, length);
  }
  const rank = ssm.P.re.length / half;
  if (!Number.isInteger(rank) || rank < 1 || ssm.P.im.length !== ssm.P.re.length) {
    throw new HippoError('SHAPE', `${fn}: P must be rank×${half} complex, got ${ssm.P.re.length} entries`);
  }
  if (!(ssm.dt > 0)) throw new HippoError('VALUE', `${fn}: dt must be positive, got ${ssm.dt}`);
  return { half, rank };
}

/**
 * The length-L S4 kernel of a DPLR SSM with bilinear discretization, in O(N·L + L log L) work without forming
 * Ā. `C` is read as C̃ = (I − Ā^L)ᵀ C, the parameter S4 trains (see `dplrCTilde`); the result then equals the
 * unrolled kernel K_l = Cᵀ Ā^l B̄ of the original C.
 *
 * At ω_k = e^{−2πik/L}, z_k = 2(1 − ω_k)/(1 + ω_k), k = 0…⌊L/2⌋:
 *   K̂(ω) = 2/(1 + ω) · [k_BC − k_BQ (I + k_PQ)⁻¹ k_PC],  k_XY = Σ_full dt·X_n Y_n / (z − dt·λ_n),
 * with Q = conj(P) (Woodbury), and K = irfft(K̂, L).
 */
export function dplrKernel(ssm: DplrSsm & { L: number }): Float64Array {
  const { half, rank } = checkDplr('dplrKernel', ssm);
  const { A, P, B, C, dt, L } = ssm;
  checkSize('dplrKernel', 'L', L);
  const bins = Math.floor(L / 2) + 1;
  // Rows: [B, P_1…P_r]; columns: [C, Q_1…Q_r]; r[i][j] = Σ_full dt·left_i·right_j/(z − dtλ).
  const left: ComplexArray[] = [B];
  const right: ComplexArray[] = [C];
  for (let q = 0; q < rank; q++) {
    const row = { re: P.re.subarray(q * half, (q + 1) * half), im: P.im.subarray(q * half, (q + 1) * half) };
    left.push(row);
    right.push({ re: row.re, im: row.im.map((v) => -v) });
  }
  const size = rank + 1;
  const spectrum = complexZeros(bins);
  const rRe = new Float64Array(size * size);
  const rIm = new Float64Array(size * size);
  let resolvent: ComplexArray | undefined;
  for (let k = 0; k < bins; k++) {
    const angle = (-2 * Math.PI * k) / L;
    const omegaRe = Math.cos(angle);
    const omegaIm = Math.sin(angle);
    if (2 * k === L) {
      // ω = −1 puts z at infinity. There (I + Ā)⁻¹B̄ = dt·B/2 for the bilinear Ā, B̄, so
      // K̂(−1) = ½·Σ_full dt·C_n B_n = dt·Re Σ_half C_n B_n: the low-rank term drops out.
      let sum = 0;
      for (let n = 0; n < half; n++) sum += C.re[n] * B.re[n] - C.im[n] * B.im[n];
      spectrum.re[k] = dt * sum;
      continue;
    }
    // z = 2(1 − ω)/(1 + ω)
    const denomRe = 1 + omegaRe;
    const denomIm = omegaIm;
    const denomMag = denomRe * denomRe + denomIm * denomIm;
    const nr = 1 - omegaRe;
    const ni = -omegaIm;
    const zRe = (2 * (nr * denomRe + ni * denomIm)) / denomMag;
    const zIm = (2 * (ni * denomRe - nr * denomIm)) / denomMag;
    let kr: number;
    let ki: number;
    if (nearestPoleDistance(A, dt, zRe, zIm, half) <= POLE_TOLERANCE * Math.max(1, Math.hypot(zRe, zIm))) {
      // A node sits on a pole of the diagonal part (e.g. the zero eigenvalue of FouT at ω = 1), where the
      // Cauchy sums are infinite although K̂ itself is finite (the pole cancels in the Woodbury form, and the
      // whole A may even be singular there on a mode that B does not reach). K̂ is analytic around z, so its
      // value is the mean over four points z + ρ·iʲ on a small circle (error O(ρ⁴)), each solved densely.
      resolvent ??= denseShiftedMatrix(ssm, half, rank);
      const radius = CIRCLE_FRACTION * farPoleDistance(A, dt, zRe, zIm, half);
      kr = 0;
      ki = 0;
      for (const [dr, di] of [[1, 0], [0, 1], [-1, 0], [0, -1]]) {
        const [br, bi] = denseBin(resolvent, ssm, half, zRe + radius * dr, zIm + radius * di);
        kr += br / 4;
        ki += bi / 4;
      }
    } else {
      cauchyMatrix(left, right, A, dt, zRe, zIm, half, rRe, rIm);
      [kr, ki] = woodbury(rRe, rIm, size);
    }
    // × 2/(1 + ω)
    const fr = (2 * denomRe) / denomMag;
    const fi = (-2 * denomIm) / denomMag;
    spectrum.re[k] = kr * fr - ki * fi;
    spectrum.im[k] = kr * fi + ki * fr;
  }
  return irfft(spectrum, L);
}

/** Nodes closer than this (relative to max(1, |z|)) to a pole dt·λ are evaluated densely. */
const POLE_TOLERANCE = 1e-8;

/** The circle around a node on a pole has this fraction of the distance to the nearest other pole as radius. */
const CIRCLE_FRACTION = 1e-3;

/** Distance from z to the nearest pole dt·λ (or its conjugate) that z does not sit on; max(1, |z|) if none. */
function farPoleDistance(A: ComplexArray, dt: number, zRe: number, zIm: number, half: number): number {
  const scale = Math.max(1, Math.hypot(zRe, zIm));
  let nearest = Infinity;
  for (let n = 0; n < half; n++) {
    const dr = zRe - dt * A.re[n];
    for (const d of [Math.hypot(dr, zIm - dt * A.im[n]), Math.hypot(dr, zIm + dt * A.im[n])]) {
      if (d > POLE_TOLERANCE * scale) nearest = Math.min(nearest, d);
    }
  }
  return Number.isFinite(nearest) ? nearest : scale;
}

function nearestPoleDistance(A: ComplexArray, dt: number, zRe: number, zIm: number, half: number): number {
  let nearest = Infinity;
  for (let n = 0; n < half; n++) {
    const dr = zRe - dt * A.re[n];
    nearest = Math.min(nearest, Math.hypot(dr, zIm - dt * A.im[n]), Math.hypot(dr, zIm + dt * A.im[n]));
  }
  return nearest;
}

/** −dt·A_full = −dt·(diag Λ_full − P_full P_full*), the z-independent part of z − dt·A (row-major N×N). */
function denseShiftedMatrix(ssm: DplrSsm, half: number, rank: number): ComplexArray {
  const n = 2 * half;
  const out = complexZeros(n * n);
  const fullP = (q: number, i: number): [number, number] => {
    const k = i < half ? i : i - half;
    const re = ssm.P.re[q * half + k];
    const im = ssm.P.im[q * half + k];
    return i < half ? [re, im] : [re, -im];
  };
  for (let i = 0; i < n; i++) {
    const k = i < half ? i : i - half;
    out.re[i * n + i] = -ssm.dt * ssm.A.re[k];
    out.im[i * n + i] = -ssm.dt * (i < half ? ssm.A.im[k] : -ssm.A.im[k]);
    for (let q = 0; q < rank; q++) {
      const [pr, pi] = fullP(q, i);
      for (let j = 0; j < n; j++) {
        const [qr, qi] = fullP(q, j);
        // + dt·p_i·conj(p_j)
        out.re[i * n + j] += ssm.dt * (pr * qr + pi * qi);
        out.im[i * n + j] += ssm.dt * (pi * qr - pr * qi);
      }
    }
  }
  return out;
}

/** Cᵀ(z − dt·A)⁻¹ dt·B over the full spectrum, by one dense complex solve. */
function denseBin(shifted: ComplexArray, ssm: DplrSsm, half: number, zRe: number, zIm: number): [number, number] {
  const n = 2 * half;
  const matrix = { re: Float64Array.from(shifted.re), im: Float64Array.from(shifted.im) };
  for (let i = 0; i < n; i++) {
    matrix.re[i * n + i] += zRe;
    matrix.im[i * n + i] += zIm;
  }
  const rhs = complexZeros(n);
  for (let i = 0; i < n; i++) {
    const k = i < half ? i : i - half;
    rhs.re[i] = ssm.dt * ssm.B.re[k];
    rhs.im[i] = ssm.dt * (i < half ? ssm.B.im[k] : -ssm.B.im[k]);
  }
  const [xRe, xIm] = complexSolve(matrix, rhs, n, 1);
  let re = 0;
  let im = 0;
  for (let i = 0; i < n; i++) {
    const k = i < half ? i : i - half;
    const cr = ssm.C.re[k];
    const ci = i < half ? ssm.C.im[k] : -ssm.C.im[k];
    re += cr * xRe[i] - ci * xIm[i];
    im += cr * xIm[i] + ci * xRe[i];
  }
  return [re, im];
}

/**
 * r[i][j] = Σ_n dt·(l_i r_j)_n/(z − dt λ_n) + the same for the conjugate half, i.e. over the full spectrum:
 * for the conjugate mode the numerator is conj(l_i r_j) and the pole conj(dt λ_n).
 */
function cauchyMatrix(
  left: ComplexArray[],
  right: ComplexArray[],
  A: ComplexArray,
  dt: number,
  zRe: number,
  zIm: number,
  half: number,
  rRe: Float64Array,
  rIm: Float64Array,
): void {
  const size = left.length;
  rRe.fill(0);
  rIm.fill(0);
  for (let n = 0; n < half; n++) {
    const pr = dt * A.re[n];
    const pi = dt * A.im[n];
    // 1/(z − p) and 1/(z − conj p)
    const d1r = zRe - pr;
    const d1i = zIm - pi;
    const m1 = d1r * d1r + d1i * d1i;
    const i1r = d1r / m1;
    const i1i = -d1i / m1;
    const d2r = zRe - pr;
    const d2i = zIm + pi;
    const m2 = d2r * d2r + d2i * d2i;
    const i2r = d2r / m2;
    const i2i = -d2i / m2;
    for (let i = 0; i < size; i++) {
      const ar = left[i].re[n];
      const ai = left[i].im[n];
      for (let j = 0; j < size; j++) {
        const br = right[j].re[n];
        const bi = right[j].im[n];
        const vr = dt * (ar * br - ai * bi);
        const vi = dt * (ar * bi + ai * br);
        // v/(z − p) + conj(v)/(z − conj p)
        rRe[i * size + j] += vr * i1r - vi * i1i + vr * i2r + vi * i2i;
        rIm[i * size + j] += vr * i1i + vi * i1r + vr * i2i - vi * i2r;
      }
    }
  }
}

/**
 * k = r_00 − r_{0,Q} (I + r_{P,Q})⁻¹ r_{P,0} from the (1+rank)² Cauchy sums, where row 0 is B, column 0 is C,
 * rows 1… are P and columns 1… are Q. The small rank×rank system is solved by complex Gaussian elimination.
 */
function woodbury(rRe: Float64Array, rIm: Float64Array, size: number): [number, number] {
  const rank = size - 1;
  // With R = (z − dtΛ)⁻¹: k = CᵀRB − (CᵀRP)(I + QᵀRP)⁻¹(QᵀRB), where (CᵀRP)_p = r[P_p][C],
  // (QᵀRB)_q = r[B][Q_q] and (I + QᵀRP)_{qp} = δ + r[P_p][Q_q]. Solve its transpose, Mᵀ y = CᵀRP, with
  // M[p][q] = δ + r[P_p][Q_q], then k = r[B][C] − Σ_q r[B][Q_q] y_q.
  const mRe = new Float64Array(rank * rank);
  const mIm = new Float64Array(rank * rank);
  const xRe = new Float64Array(rank);
  const xIm = new Float64Array(rank);
  for (let p = 0; p < rank; p++) {
    for (let q = 0; q < rank; q++) {
      mRe[p * rank + q] = rRe[(1 + p) * size + 1 + q] + (p === q ? 1 : 0);
      mIm[p * rank + q] = rIm[(1 + p) * size + 1 + q];
    }
    xRe[p] = rRe[(1 + p) * size];
    xIm[p] = rIm[(1 + p) * size];
  }
  const [yRe, yIm] = complexSolve({ re: mRe, im: mIm }, { re: xRe, im: xIm }, rank, 1);
  let kr = rRe[0];
  let ki = rIm[0];
  for (let q = 0; q < rank; q++) {
    const ar = rRe[1 + q]; // r[B][Q_q]
    const ai = rIm[1 + q];
    kr -= ar * yRe[q] - ai * yIm[q];
    ki -= ar * yIm[q] + ai * yRe[q];
  }
  return [kr, ki];
}

/**
 * Solves M·Y = X for complex M (n×n) and X (n×m), row-major, by Gaussian elimination with partial pivoting.
 * Inputs are not modified.
 */
export function complexSolve(M: ComplexArray, X: ComplexArray, n: number, m: number): [Float64Array, Float64Array] {
  checkLength('complexSolve', 'M.re', M.re, n * n);
  checkLength('complexSolve', 'X.re', X.re, n * m);
  const mRe = Float64Array.from(M.re);
  const mIm = Float64Array.from(M.im);
  const yRe = Float64Array.from(X.re);
  const yIm = Float64Array.from(X.im);
  const swapRows = (a: Float64Array, width: number, r1: number, r2: number) => {
    for (let j = 0; j < width; j++) {
      const t = a[r1 * width + j];
      a[r1 * width + j] = a[r2 * width + j];
      a[r2 * width + j] = t;
    }
  };
  for (let col = 0; col < n; col++) {
    let pivot = col;
    let best = Math.hypot(mRe[col * n + col], mIm[col * n + col]);
    for (let row = col + 1; row < n; row++) {
      const size = Math.hypot(mRe[row * n + col], mIm[row * n + col]);
      if (size > best) {
        best = size;
        pivot = row;
      }
    }
    if (best === 0) throw new HippoError('NUMERIC', `complexSolve: matrix is singular (column ${col} has no pivot)`);
    if (pivot !== col) {
      swapRows(mRe, n, col, pivot);
      swapRows(mIm, n, col, pivot);
      swapRows(yRe, m, col, pivot);
      swapRows(yIm, m, col, pivot);
    }
    const pr = mRe[col * n + col];
    const pi = mIm[col * n + col];
    const pm = pr * pr + pi * pi;
    for (let row = col + 1; row < n; row++) {
      const ar = mRe[row * n + col];
      const ai = mIm[row * n + col];
      if (ar === 0 && ai === 0) continue;
      const fr = (ar * pr + ai * pi) / pm;
      const fi = (ai * pr - ar * pi) / pm;
      for (let j = col; j < n; j++) {
        const br = mRe[col * n + j];
        const bi = mIm[col * n + j];
        mRe[row * n + j] -= fr * br - fi * bi;
        mIm[row * n + j] -= fr * bi + fi * br;
      }
      for (let j = 0; j < m; j++) {
        const br = yRe[col * m + j];
        const bi = yIm[col * m + j];
        yRe[row * m + j] -= fr * br - fi * bi;
        yIm[row * m + j] -= fr * bi + fi * br;
      }
    }
  }
  for (let row = n - 1; row >= 0; row--) {
    const pr = mRe[row * n + row];
    const pi = mIm[row * n + row];
    const pm = pr * pr + pi * pi;
    for (let j = 0; j < m; j++) {
      let sr = yRe[row * m + j];
      let si = yIm[row * m + j];
      for (let k = row + 1; k < n; k++) {
        sr -= mRe[row * n + k] * yRe[k * m + j] - mIm[row * n + k] * yIm[k * m + j];
        si -= mRe[row * n + k] * yIm[k * m + j] + mIm[row * n + k] * yRe[k * m + j];
      }
      yRe[row * m + j] = (sr * pr + si * pi) / pm;
      yIm[row * m + j] = (si * pr - sr * pi) / pm;
    }
  }
  return [yRe, yIm];
}

/** C = A·B for complex row-major A (n×k) and B (k×m). */
export function complexMatmul(a: ComplexArray, b: ComplexArray, n: number, k: number, m: number): ComplexArray {
  const out = complexZeros(n * m);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < k; p++) {
      const ar = a.re[i * k + p];
      const ai = a.im[i * k + p];
      if (ar === 0 && ai === 0) continue;
      for (let j = 0; j < m; j++) {
        out.re[i * m + j] += ar * b.re[p * m + j] - ai * b.im[p * m + j];
        out.im[i * m + j] += ar * b.im[p * m + j] + ai * b.re[p * m + j];
      }
    }
  }
  return out;
}

/** The full (conjugate-extended) discrete system of a DPLR SSM, dense: N = 2·(N/2) complex states. */
export interface DenseComplexSsm {
  /** Row-major N×N. */
  dA: ComplexArray;
  /** Length N. */
  dB: ComplexArray;
  /** Length N; the output is Cᵀ x (real for conjugate-symmetric systems). */
  C: ComplexArray;
}

/**
 * Expands a DPLR SSM to its full dense bilinear discretization: Λ_full = [Λ, Λ̄], P_full = [P, P̄],
 * A = diag(Λ_full) − P_full P_full*, Ā = (I − dt/2·A)⁻¹(I + dt/2·A), B̄ = (I − dt/2·A)⁻¹ dt·B_full,
 * C_full = [C, C̄]. O(N³): meant for checks, C̃ and recurrent stepping, not for kernels.
 */
export function dplrToDense(ssm: DplrSsm): DenseComplexSsm {
  const { half, rank } = checkDplr('dplrToDense', ssm);
  const { A, P, B, C, dt } = ssm;
  const n = 2 * half;
  const full = (x: ComplexArray, offset = 0): ComplexArray => {
    const out = complexZeros(n);
    for (let k = 0; k < half; k++) {
      out.re[k] = out.re[k + half] = x.re[offset + k];
      out.im[k] = x.im[offset + k];
      out.im[k + half] = -x.im[offset + k];
    }
    return out;
  };
  const lowRank = complexZeros(n * n);
  for (let q = 0; q < rank; q++) {
    const p = full(P, q * half);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        // p_i conj(p_j)
        lowRank.re[i * n + j] += p.re[i] * p.re[j] + p.im[i] * p.im[j];
        lowRank.im[i * n + j] += p.im[i] * p.re[j] - p.re[i] * p.im[j];
      }
    }
  }
  const lambda = full(A);
  const leftM = complexZeros(n * n);
  const rightM = complexZeros(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const aRe = (i === j ? lambda.re[i] : 0) - lowRank.re[i * n + j];
      const aIm = (i === j ? lambda.im[i] : 0) - lowRank.im[i * n + j];
      leftM.re[i * n + j] = (i === j ? 1 : 0) - (dt / 2) * aRe;
      leftM.im[i * n + j] = -(dt / 2) * aIm;
      rightM.re[i * n + j] = (i === j ? 1 : 0) + (dt / 2) * aRe;
      rightM.im[i * n + j] = (dt / 2) * aIm;
    }
  }
  const [daRe, daIm] = complexSolve(leftM, rightM, n, n);
  const bFull = full(B);
  const [dbRe, dbIm] = complexSolve(leftM, { re: bFull.re.map((v) => dt * v), im: bFull.im.map((v) => dt * v) }, n, 1);
  return { dA: { re: daRe, im: daIm }, dB: { re: dbRe, im: dbIm }, C: full(C) };
}

/**
 * C̃ = (I − Ā^L)ᵀ C (first N/2 entries; the rest are their conjugates): the C that `dplrKernel` expects for
 * the SSM whose output matrix is C. Ā^L by repeated squaring of the dense Ā.
 */
export function dplrCTilde(ssm: DplrSsm, L: number): ComplexArray {
  checkSize('dplrCTilde', 'L', L);
  const { dA, C } = dplrToDense(ssm);
  const n = C.re.length;
  const half = n / 2;
  const power = complexPower(dA, n, L);
  const out = complexZeros(half);
  for (let m = 0; m < half; m++) {
    // (Ā^L)ᵀ C at index m = Σ_i (Ā^L)[i][m] C_i
    let sr = 0;
    let si = 0;
    for (let i = 0; i < n; i++) {
      const ar = power.re[i * n + m];
      const ai = power.im[i * n + m];
      sr += ar * C.re[i] - ai * C.im[i];
      si += ar * C.im[i] + ai * C.re[i];
    }
    out.re[m] = C.re[m] - sr;
    out.im[m] = C.im[m] - si;
  }
  return out;
}

/** K_l = Cᵀ Ā^l B̄ for l < L by stepping the dense system: the reference the fast kernels are tested against. */
export function unrollKernel(system: DenseComplexSsm, L: number): Float64Array {
  const n = system.C.re.length;
  const kernel = new Float64Array(L);
  let x: ComplexArray = { re: Float64Array.from(system.dB.re), im: Float64Array.from(system.dB.im) };
  for (let l = 0; l < L; l++) {
    let y = 0;
    for (let i = 0; i < n; i++) y += system.C.re[i] * x.re[i] - system.C.im[i] * x.im[i];
    kernel[l] = y;
    if (l + 1 < L) x = complexMatmul(system.dA, x, n, n, 1);
  }
  return kernel;
}

/**
 * The inverse of `dplrCTilde`: the output matrix C (first N/2 entries) with (I − Ā^L)ᵀ C = C̃, where `ssm.C`
 * holds C̃. This is what recurrent stepping needs from a trained S4 kernel. Throws if I − Ā^L is singular.
 */
export function dplrCFromTilde(ssm: DplrSsm, L: number): ComplexArray {
  checkSize('dplrCFromTilde', 'L', L);
  const { dA, C: cTildeFull } = dplrToDense(ssm);
  const n = cTildeFull.re.length;
  const half = n / 2;
  const power = complexPower(dA, n, L);
  // M = (I − Ā^L)ᵀ
  const M = complexZeros(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      M.re[i * n + j] = (i === j ? 1 : 0) - power.re[j * n + i];
      M.im[i * n + j] = -power.im[j * n + i];
    }
  }
  const [re, im] = complexSolve(M, cTildeFull, n, 1);
  return { re: re.slice(0, half), im: im.slice(0, half) };
}

/** A^e for a complex n×n matrix by repeated squaring (e ≥ 1). */
function complexPower(a: ComplexArray, n: number, e: number): ComplexArray {
  let result: ComplexArray | null = null;
  let base = a;
  for (let rest = e; rest > 0; rest = Math.floor(rest / 2)) {
    if (rest % 2 === 1) result = result ? complexMatmul(result, base, n, n, n) : base;
    if (rest > 1) base = complexMatmul(base, base, n, n, n);
  }
  return result!;
}

/**
 * y_t = Cᵀ x_{t+1} with x_{t+1} = Ā x_t + B̄ u_t, x_0 = 0: the recurrent (generation) path of a dense system,
 * which must equal the causal convolution of u with `unrollKernel(system, ·)`. The real part is returned.
 */
export function denseRecurrence(system: DenseComplexSsm, u: ArrayLike<number>): Float64Array {
  const n = system.C.re.length;
  const y = new Float64Array(u.length);
  let x = complexZeros(n);
  for (let t = 0; t < u.length; t++) {
    x = complexMatmul(system.dA, x, n, n, 1);
    for (let i = 0; i < n; i++) {
      x.re[i] += system.dB.re[i] * u[t];
      x.im[i] += system.dB.im[i] * u[t];
    }
    let out = 0;
    for (let i = 0; i < n; i++) out += system.C.re[i] * x.re[i] - system.C.im[i] * x.im[i];
    y[t] = out;
  }
  return y;
}

/**
 * The recurrent path of a diagonal SSM (S4D): x_{t+1} = Ā ⊙ x_t + B̄ u_t, y_t = 2·Re Σ_n C_n x_{t+1,n}, in O(N)
 * per step. Equals the causal convolution of u with `s4dKernel`.
 */
export function s4dRecurrence(ssm: DiagonalSsm & { method: DiscretizationMethod }, u: ArrayLike<number>): Float64Array {
  const { A, B, C, dt, method } = ssm;
  const half = A.re.length;
  checkLength('s4dRecurrence', 'C.re', C.re, half);
  const { dA, dB } = discretizeDiagonal(A, B, dt, method);
  const xr = new Float64Array(half);
  const xi = new Float64Array(half);
  const y = new Float64Array(u.length);
  for (let t = 0; t < u.length; t++) {
    let out = 0;
    for (let n = 0; n < half; n++) {
      const r = dA.re[n] * xr[n] - dA.im[n] * xi[n] + dB.re[n] * u[t];
      const i = dA.re[n] * xi[n] + dA.im[n] * xr[n] + dB.im[n] * u[t];
      xr[n] = r;
      xi[n] = i;
      out += 2 * (C.re[n] * r - C.im[n] * i);
    }
    y[t] = out;
  }
  return y;
}
