import { describe, expect, it } from 'vitest';
import { eigHermitian } from '../src/eigh';
import { adjoint, complexMatmul, maxAbs, maxAbsDiff, normals, randomGenerator } from './helpers';

function randomHermitian(n: number, seed: number) {
  const random = randomGenerator(seed);
  const g = normals(random, 2 * n * n);
  const re = new Float64Array(n * n);
  const im = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      re[i * n + j] = re[j * n + i] = g[i * n + j];
      const imag = i === j ? 0 : g[n * n + i * n + j];
      im[i * n + j] = imag;
      im[j * n + i] = -imag;
    }
  }
  return { re, im };
}

describe('eigHermitian', () => {
  for (const n of [1, 2, 3, 7, 32, 100]) {
    it(`diagonalizes a random ${n}×${n} Hermitian matrix: H V = V Λ, V* V = I`, () => {
      const h = randomHermitian(n, 1000 + n);
      const { values, vectors } = eigHermitian(h, n);
      const hv = complexMatmul(h, vectors, n, n, n);
      const vl = { re: vectors.re.slice(), im: vectors.im.slice() };
      for (let i = 0; i < n; i++) {
        for (let k = 0; k < n; k++) {
          vl.re[i * n + k] *= values[k];
          vl.im[i * n + k] *= values[k];
        }
      }
      const scale = Math.max(1, maxAbs(values));
      expect(maxAbsDiff(hv.re, vl.re) / scale).toBeLessThan(1e-12);
      expect(maxAbsDiff(hv.im, vl.im) / scale).toBeLessThan(1e-12);
      const gram = complexMatmul(adjoint(vectors, n, n), vectors, n, n, n);
      const eye = new Float64Array(n * n);
      for (let i = 0; i < n; i++) eye[i * n + i] = 1;
      expect(maxAbsDiff(gram.re, eye)).toBeLessThan(1e-12);
      expect(maxAbs(gram.im)).toBeLessThan(1e-12);
      for (let k = 1; k < n; k++) expect(values[k]).toBeGreaterThanOrEqual(values[k - 1]);
    });
  }

  it('finds the known spectrum 2cos(kπ/(n+1)) of the path graph, with complex phases on the couplings', () => {
    const n = 20;
    const re = new Float64Array(n * n);
    const im = new Float64Array(n * n);
    for (let i = 0; i + 1 < n; i++) {
      // A unit coupling with an arbitrary phase is unitarily similar to the real one.
      const phase = 0.3 * i + 0.1;
      re[(i + 1) * n + i] = Math.cos(phase);
      im[(i + 1) * n + i] = Math.sin(phase);
    }
    const { values } = eigHermitian({ re, im }, n);
    const expected = Array.from({ length: n }, (_, k) => 2 * Math.cos(((n - k) * Math.PI) / (n + 1)));
    expect(maxAbsDiff(values, expected)).toBeLessThan(1e-13);
  });

  it('handles repeated eigenvalues (identity plus a rank-one term)', () => {
    const n = 6;
    const re = new Float64Array(n * n);
    const im = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) re[i * n + j] = (i === j ? 1 : 0) + 1;
    const { values } = eigHermitian({ re, im }, n);
    expect(maxAbsDiff(values, [1, 1, 1, 1, 1, 1 + n])).toBeLessThan(1e-13);
  });

  it('rejects a matrix of the wrong size', () => {
    expect(() => eigHermitian({ re: new Float64Array(3), im: new Float64Array(3) }, 2)).toThrow(/length 4, got 3/);
  });
});
