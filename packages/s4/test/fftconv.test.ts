import { checkGradients, dispose, mul, randn, ShapeError, sum, tidy, type Tensor } from '@ssmjs/core';
import { describe, expect, it } from 'vitest';
import { fftConv } from '../src/index';
import { relativeError } from './helpers';

/** y[..., h, t] = Σ_{s ≤ t} K[h, t − s]·u[..., h, s], in float64. */
function directConv(u: Float32Array, K: Float32Array, rows: number, H: number, L: number): Float64Array {
  const y = new Float64Array(rows * L);
  for (let r = 0; r < rows; r++) {
    const h = r % H;
    for (let t = 0; t < L; t++) {
      let acc = 0;
      for (let s = 0; s <= t; s++) acc += K[h * L + t - s] * u[r * L + s];
      y[r * L + t] = acc;
    }
  }
  return y;
}

describe('fftConv', () => {
  for (const L of [1, 2, 7, 16, 33]) {
    it(`equals the direct causal convolution, L = ${L}`, () => {
      const [batch, H] = [2, 3];
      const u = randn([batch, H, L], { seed: L });
      const K = randn([H, L], { seed: 100 + L });
      const y = tidy(() => fftConv(u, K));
      expect(y.shape).toEqual([batch, H, L]);
      const expected = directConv(u.dataSync() as Float32Array, K.dataSync() as Float32Array, batch * H, H, L);
      expect(relativeError(y.dataSync(), expected)).toBeLessThan(1e-5);
      dispose([u, K, y]);
    });
  }

  it('passes a finite-difference gradient check in u and K', async () => {
    const u = randn([2, 2, 9], { seed: 1 });
    const K = randn([2, 9], { seed: 2 });
    const w = randn([2, 2, 9], { seed: 3 });
    const r = await checkGradients((a: Tensor, b: Tensor) => sum(mul(fftConv(a, b), w)), [u, K], { samples: 40 });
    expect(r.failures).toEqual([]);
    dispose([u, K, w]);
  });

  it('says what shapes it expected', () => {
    const u = randn([2, 3, 8]);
    const K = randn([3, 7]);
    expect(() => fftConv(u, K)).toThrow(ShapeError);
    expect(() => fftConv(u, K)).toThrow(/K must be \[H, L\] = \[3, 8\]/);
    dispose([u, K]);
  });
});
