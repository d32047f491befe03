import { dispose, rfft, ShapeError, tensor, tidy } from '@ssmjs/core';
import { describe, expect, it } from 'vitest';
import { complex } from '../src/index';
import { values } from './helpers';

const { cdiv, cexp, cexpm1, cmul, fromPairs, toPairs } = complex;

describe('complex helpers', () => {
  it('multiply, divide and exponentiate like complex numbers', () => {
    const a = { re: tensor([1, -2]), im: tensor([2, 0.5]) };
    const b = { re: tensor([3, 1]), im: tensor([-1, 4]) };
    const out = tidy(() => ({ prod: cmul(a, b), quot: cdiv(a, b), e: cexp(a) }));
    // (1 + 2i)(3 − i) = 5 + 5i; (−2 + 0.5i)(1 + 4i) = −4 − 7.5i
    expect(values(out.prod.re)).toEqual([5, -4]);
    expect(values(out.prod.im)).toEqual([5, -7.5]);
    // (1 + 2i)/(3 − i) = (1 + 7i)/10
    expect(values(out.quot.re)[0]).toBeCloseTo(0.1, 6);
    expect(values(out.quot.im)[0]).toBeCloseTo(0.7, 6);
    expect(values(out.e.re)[0]).toBeCloseTo(Math.E * Math.cos(2), 5);
    expect(values(out.e.im)[0]).toBeCloseTo(Math.E * Math.sin(2), 5);
    dispose([a, b, out]);
  });

  it('cexpm1 keeps full relative precision for tiny arguments', () => {
    const zs: [number, number][] = [[-1e-4, 3e-5], [-5e-4, 1e-6], [2e-7, -4e-7], [-0.5, 2], [-3, 40]];
    const z = { re: tensor(zs.map(([a]) => a)), im: tensor(zs.map(([, b]) => b)) };
    const out = tidy(() => cexpm1(z));
    const [re, im] = [values(out.re), values(out.im)];
    zs.forEach(([a, b], i) => {
      const [a32, b32] = [Math.fround(a), Math.fround(b)];
      // e^z − 1 in float64 with expm1, from the float32 inputs the tensors hold.
      const wantRe = Math.expm1(a32) * Math.cos(b32) - 2 * Math.sin(b32 / 2) ** 2;
      const wantIm = Math.exp(a32) * Math.sin(b32);
      const scale = Math.hypot(wantRe, wantIm);
      expect(Math.hypot(re[i] - wantRe, im[i] - wantIm) / scale).toBeLessThan(1e-6);
    });
    dispose([z, out]);
  });

  it('converts between { re, im } and core’s [..., 2] FFT layout', () => {
    const X = tidy(() => rfft(tensor([1, 2, 3, 4])));
    const c = tidy(() => fromPairs(X));
    expect(values(c.re)).toEqual([10, -2, -2]);
    expect(values(c.im)).toEqual([0, 2, 0]);
    const back = tidy(() => toPairs(c));
    expect(back.shape).toEqual([3, 2]);
    expect(values(back)).toEqual(values(X));
    expect(() => fromPairs(tensor([1, 2, 3]))).toThrow(ShapeError);
    dispose([X, c, back]);
  });
});
