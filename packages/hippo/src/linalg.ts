/**
 * Small dense real linear algebra on row-major Float64Arrays: products, LU solves and the matrix
 * exponential. Sizes here are state sizes (N ≤ a few hundred), so plain O(N³) loops are the right tool.
 */
import { HippoError, checkLength, checkSize } from './errors';

/** The n×n identity matrix. */
export function identity(n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) out[i * n + i] = 1;
  return out;
}

/** C = A·B for A (n×k) and B (k×m), all row-major. */
export function matmul(a: Float64Array, b: Float64Array, n: number, k: number, m: number): Float64Array {
  checkLength('matmul', 'A', a, n * k);
  checkLength('matmul', 'B', b, k * m);
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < k; p++) {
      const aip = a[i * k + p];
      if (aip === 0) continue;
      const bRow = p * m;
      const outRow = i * m;
      for (let j = 0; j < m; j++) out[outRow + j] += aip * b[bRow + j];
    }
  }
  return out;
}

/** y = A·x for a row-major n×n matrix A. */
export function matvec(a: Float64Array, x: Float64Array, n: number): Float64Array {
  return matmul(a, x, n, n, 1);
}

/** The transpose of a row-major rows×cols matrix. */
export function transpose(a: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = a[i * cols + j];
  return out;
}

/** max over columns of Σ_i |a_ij|, the matrix 1-norm. */
export function norm1(a: Float64Array, n: number): number {
  let best = 0;
  for (let j = 0; j < n; j++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += Math.abs(a[i * n + j]);
    if (sum > best) best = sum;
  }
  return best;
}

/** An LU factorization with partial pivoting: P·A = L·U packed into one matrix. */
export interface LU {
  n: number;
  lu: Float64Array;
  pivots: Int32Array;
}

/** Factors a square matrix; throws if a pivot is exactly zero (the matrix is singular). */
export function luFactor(a: Float64Array, n: number): LU {
  checkSize('luFactor', 'n', n);
  checkLength('luFactor', 'A', a, n * n);
  const lu = Float64Array.from(a);
  const pivots = new Int32Array(n);
  for (let col = 0; col < n; col++) {
    let pivotRow = col;
    let pivotAbs = Math.abs(lu[col * n + col]);
    for (let row = col + 1; row < n; row++) {
      const v = Math.abs(lu[row * n + col]);
      if (v > pivotAbs) {
        pivotAbs = v;
        pivotRow = row;
      }
    }
    pivots[col] = pivotRow;
    if (pivotAbs === 0) throw new HippoError('NUMERIC', `luFactor: matrix is singular (column ${col} has no pivot)`);
    if (pivotRow !== col) {
      for (let j = 0; j < n; j++) {
        const t = lu[col * n + j];
        lu[col * n + j] = lu[pivotRow * n + j];
        lu[pivotRow * n + j] = t;
      }
    }
    const pivot = lu[col * n + col];
    for (let row = col + 1; row < n; row++) {
      const factor = (lu[row * n + col] /= pivot);
      if (factor === 0) continue;
      for (let j = col + 1; j < n; j++) lu[row * n + j] -= factor * lu[col * n + j];
    }
  }
  return { n, lu, pivots };
}

/** Solves A·X = B for X (n×m), given A's factorization; B is row-major n×m and is not modified. */
export function luSolve({ n, lu, pivots }: LU, b: Float64Array, m: number): Float64Array {
  checkLength('luSolve', 'B', b, n * m);
  const x = Float64Array.from(b);
  for (let i = 0; i < n; i++) {
    const p = pivots[i];
    if (p !== i) {
      for (let j = 0; j < m; j++) {
        const t = x[i * m + j];
        x[i * m + j] = x[p * m + j];
        x[p * m + j] = t;
      }
    }
  }
  // Forward substitution with the unit lower triangle, then back substitution with U.
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < i; k++) {
      const l = lu[i * n + k];
      if (l !== 0) for (let j = 0; j < m; j++) x[i * m + j] -= l * x[k * m + j];
    }
  }
  for (let i = n - 1; i >= 0; i--) {
    for (let k = i + 1; k < n; k++) {
      const u = lu[i * n + k];
      if (u !== 0) for (let j = 0; j < m; j++) x[i * m + j] -= u * x[k * m + j];
    }
    const diag = lu[i * n + i];
    for (let j = 0; j < m; j++) x[i * m + j] /= diag;
  }
  return x;
}

/** X = A⁻¹·B for a square A (n×n) and B (n×m), by LU with partial pivoting. */
export function solve(a: Float64Array, b: Float64Array, n: number, m = b.length / n): Float64Array {
  return luSolve(luFactor(a, n), b, m);
}

/** Padé degree used by `expm`; with ‖A/2^s‖₁ ≤ 1/2 its truncation error is below 4e-16 (Golub & Van Loan 11.3). */
const PADE_DEGREE = 6;

/**
 * The matrix exponential e^A of a square real matrix by scaling and squaring with a diagonal Padé
 * approximant: scale A by 2^-s until its 1-norm is at most 1/2, take the [6/6] approximant, square s times.
 */
export function expm(a: Float64Array, n: number): Float64Array {
  checkSize('expm', 'n', n);
  checkLength('expm', 'A', a, n * n);
  for (let k = 0; k < a.length; k++) {
    if (!Number.isFinite(a[k])) throw new HippoError('VALUE', `expm: A must be finite, found ${a[k]} at ${k}`);
  }
  const norm = norm1(a, n);
  const squarings = norm > 0.5 ? Math.ceil(Math.log2(norm / 0.5)) : 0;
  const scale = 2 ** -squarings;
  const x = a.map((v) => v * scale);

  const numerator = identity(n);
  const denominator = identity(n);
  let power = identity(n);
  let coefficient = 1;
  for (let k = 1; k <= PADE_DEGREE; k++) {
    coefficient *= (PADE_DEGREE - k + 1) / (k * (2 * PADE_DEGREE - k + 1));
    power = matmul(power, x, n, n, n);
    const sign = k % 2 === 0 ? 1 : -1;
    for (let j = 0; j < n * n; j++) {
      numerator[j] += coefficient * power[j];
      denominator[j] += sign * coefficient * power[j];
    }
  }
  let result = solve(denominator, numerator, n, n);
  for (let s = 0; s < squarings; s++) result = matmul(result, result, n, n, n);
  return result;
}
