import type { ComplexArray } from '../src/complex';

/** A small deterministic generator (mulberry32) so tests need no seeded library. */
export function randomGenerator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples by Box–Muller. */
export function normals(random: () => number, count: number): Float64Array {
  const out = new Float64Array(count);
  for (let k = 0; k < count; k++) {
    const u = 1 - random();
    out[k] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  }
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let k = 0; k < a.length; k++) worst = Math.max(worst, Math.abs(a[k] - b[k]));
  return worst;
}

export function maxAbs(a: ArrayLike<number>): number {
  let worst = 0;
  for (let k = 0; k < a.length; k++) worst = Math.max(worst, Math.abs(a[k]));
  return worst;
}

/** C = A·B for complex row-major A (n×k) and B (k×m). */
export function complexMatmul(a: ComplexArray, b: ComplexArray, n: number, k: number, m: number): ComplexArray {
  const re = new Float64Array(n * m);
  const im = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < k; p++) {
      const ar = a.re[i * k + p];
      const ai = a.im[i * k + p];
      for (let j = 0; j < m; j++) {
        re[i * m + j] += ar * b.re[p * m + j] - ai * b.im[p * m + j];
        im[i * m + j] += ar * b.im[p * m + j] + ai * b.re[p * m + j];
      }
    }
  }
  return { re, im };
}

/** The conjugate transpose of a complex row-major rows×cols matrix. */
export function adjoint(a: ComplexArray, rows: number, cols: number): ComplexArray {
  const re = new Float64Array(rows * cols);
  const im = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      re[j * rows + i] = a.re[i * cols + j];
      im[j * rows + i] = -a.im[i * cols + j];
    }
  }
  return { re, im };
}
