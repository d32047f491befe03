/**
 * Discretization of x' = A x + B u with step dt, for diagonal complex and dense real systems:
 * - 'zoh' (zero-order hold, exact for piecewise-constant input): Ā = e^{dt A}, B̄ = A⁻¹(e^{dt A} − I) B;
 * - 'bilinear' (Tustin, as in S4): Ā = (I − dt/2·A)⁻¹(I + dt/2·A), B̄ = (I − dt/2·A)⁻¹ dt B.
 */
import type { ComplexArray } from './complex';
import { complexZeros, expm1Complex } from './complex';
import { HippoError, checkLength, checkSize } from './errors';
import { expm, identity, luFactor, luSolve, matmul } from './linalg';

/** 'zoh' or 'bilinear'. */
export type DiscretizationMethod = 'zoh' | 'bilinear';

/** A discretized diagonal system: x_{k+1} = Ā ⊙ x_k + B̄ u_k. */
export interface DiscreteDiagonal {
  dA: ComplexArray;
  dB: ComplexArray;
}

/** A discretized dense system: x_{k+1} = Ā x_k + B̄ u_k with Ā (N×N) and B̄ (N×M), row-major. */
export interface DiscreteDense {
  dA: Float64Array;
  dB: Float64Array;
}

function checkStep(fn: string, dt: number, method: string): void {
  if (!(dt > 0) || !Number.isFinite(dt)) throw new HippoError('VALUE', `${fn}: dt must be a positive finite number, got ${dt}`);
  if (method !== 'zoh' && method !== 'bilinear') {
    throw new HippoError('VALUE', `${fn}: method must be 'zoh' or 'bilinear', got '${method}'`);
  }
}

/**
 * Discretizes a diagonal system with complex A and B (same length), elementwise.
 * ZOH uses an expm1-style evaluation of e^{dt·a} − 1 and the limit dt·b at a = 0.
 */
export function discretizeDiagonal(A: ComplexArray, B: ComplexArray, dt: number, method: DiscretizationMethod): DiscreteDiagonal {
  checkStep('discretizeDiagonal', dt, method);
  const n = A.re.length;
  checkLength('discretizeDiagonal', 'A.im', A.im, n);
  checkLength('discretizeDiagonal', 'B.re', B.re, n);
  checkLength('discretizeDiagonal', 'B.im', B.im, n);
  const dA = complexZeros(n);
  const dB = complexZeros(n);
  const em1 = [0, 0];
  for (let k = 0; k < n; k++) {
    const ar = A.re[k];
    const ai = A.im[k];
    const br = B.re[k];
    const bi = B.im[k];
    let gr: number; // B̄ = g·b
    let gi: number;
    if (method === 'zoh') {
      expm1Complex(dt * ar, dt * ai, em1);
      dA.re[k] = 1 + em1[0];
      dA.im[k] = em1[1];
      const mag2 = ar * ar + ai * ai;
      if (mag2 === 0) {
        gr = dt;
        gi = 0;
      } else {
        // (e^{dt a} − 1) / a
        gr = (em1[0] * ar + em1[1] * ai) / mag2;
        gi = (em1[1] * ar - em1[0] * ai) / mag2;
      }
    } else {
      // 1 / (1 − dt a / 2), then Ā = (1 + dt a/2)·that, B̄ = dt·that·b
      const dr = 1 - (dt * ar) / 2;
      const di = -(dt * ai) / 2;
      const mag2 = dr * dr + di * di;
      const ir = dr / mag2;
      const ii = -di / mag2;
      const nr = 1 + (dt * ar) / 2;
      const ni = (dt * ai) / 2;
      dA.re[k] = nr * ir - ni * ii;
      dA.im[k] = nr * ii + ni * ir;
      gr = dt * ir;
      gi = dt * ii;
    }
    dB.re[k] = gr * br - gi * bi;
    dB.im[k] = gr * bi + gi * br;
  }
  return { dA, dB };
}

/**
 * Discretizes a dense real system: A row-major N×N, B row-major N×M (a length-N vector is N×1).
 * ZOH takes one matrix exponential of the block matrix [[A, B], [0, 0]]·dt, whose top blocks are Ā and B̄,
 * so A need not be invertible.
 */
export function discretizeDense(A: Float64Array, B: Float64Array, dt: number, method: DiscretizationMethod): DiscreteDense {
  checkStep('discretizeDense', dt, method);
  const n = Math.round(Math.sqrt(A.length));
  checkSize('discretizeDense', 'N', n);
  checkLength('discretizeDense', 'A', A, n * n);
  const m = B.length / n;
  if (!Number.isInteger(m) || m < 1) {
    throw new HippoError('SHAPE', `discretizeDense: B must have N·M entries for N = ${n}, got ${B.length}`);
  }
  if (method === 'zoh') {
    const size = n + m;
    const block = new Float64Array(size * size);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) block[i * size + j] = dt * A[i * n + j];
      for (let j = 0; j < m; j++) block[i * size + n + j] = dt * B[i * m + j];
    }
    const e = expm(block, size);
    const dA = new Float64Array(n * n);
    const dB = new Float64Array(n * m);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) dA[i * n + j] = e[i * size + j];
      for (let j = 0; j < m; j++) dB[i * m + j] = e[i * size + n + j];
    }
    return { dA, dB };
  }
  const left = identity(n);
  const right = identity(n);
  for (let k = 0; k < n * n; k++) {
    left[k] -= (dt / 2) * A[k];
    right[k] += (dt / 2) * A[k];
  }
  const lu = luFactor(left, n);
  return { dA: luSolve(lu, right, n), dB: luSolve(lu, B.map((v) => dt * v), m) };
}

/**
 * Runs x_{k+1} = Ā x_k + B̄ u_k from x_0 = `x0` (default 0) over the scalar inputs u (B̄ has one column) and
 * returns the state after each input, row-major L×N (row k is x_{k+1}).
 */
export function runDense(system: DiscreteDense, u: ArrayLike<number>, x0?: Float64Array): Float64Array {
  const n = system.dB.length;
  checkLength('runDense', 'dA', system.dA, n * n);
  const states = new Float64Array(u.length * n);
  let x: Float64Array = x0 ? Float64Array.from(x0) : new Float64Array(n);
  for (let k = 0; k < u.length; k++) {
    const next = matmul(system.dA, x, n, n, 1);
    for (let i = 0; i < n; i++) next[i] += system.dB[i] * u[k];
    states.set(next, k * n);
    x = next;
  }
  return states;
}
