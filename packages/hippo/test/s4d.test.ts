import { describe, expect, it } from 'vitest';
import { nplr } from '../src/hippo';
import { s4dInit } from '../src/s4d';
import { maxAbsDiff } from './helpers';

describe('s4dInit', () => {
  const N = 8;
  const n = [0, 1, 2, 3];

  it("'lin': A = −½ − iπn, B = 1", () => {
    const { A, B } = s4dInit('lin', N);
    expect(maxAbsDiff(A.re, [-0.5, -0.5, -0.5, -0.5])).toBe(0);
    expect(maxAbsDiff(A.im, n.map((k) => -Math.PI * k))).toBeLessThan(1e-15);
    expect(maxAbsDiff(B.re, [1, 1, 1, 1])).toBe(0);
    expect(maxAbsDiff(B.im, [0, 0, 0, 0])).toBe(0);
  });

  it("'inv': A = −½ − i(N/π)(N/(2n+1) − 1)", () => {
    const { A } = s4dInit('inv', N);
    expect(maxAbsDiff(A.im, n.map((k) => -(N / Math.PI) * (N / (2 * k + 1) - 1)))).toBeLessThan(1e-14);
    expect(maxAbsDiff(A.re, [-0.5, -0.5, -0.5, -0.5])).toBe(0);
  });

  it("'real': A = −1, −2, …, −N/2 with no imaginary part", () => {
    const { A } = s4dInit('real', N);
    expect(maxAbsDiff(A.re, [-1, -2, -3, -4])).toBe(0);
    expect(maxAbsDiff(A.im, [0, 0, 0, 0])).toBe(0);
  });

  it("'legs': A = −½ + i·Im W(LegS), B = the (clipped) LegS B̃; scales apply to real and imaginary parts", () => {
    const form = nplr('legs', 16);
    const { A, B } = s4dInit('legs', 16, { realScale: 2, imagScale: 0.5 });
    expect(maxAbsDiff(A.re, new Array(8).fill(-1))).toBe(0);
    expect(maxAbsDiff(A.im, Array.from(form.W.im, (w) => 0.5 * w))).toBeLessThan(1e-15);
    for (let k = 0; k < 8; k++) expect(A.im[k]).toBeLessThan(0);
    expect(maxAbsDiff(B.re, form.B.re)).toBe(0);
    expect(maxAbsDiff(B.im, form.B.im)).toBe(0);
  });

  it('rejects odd N and unknown kinds', () => {
    expect(() => s4dInit('lin', 5)).toThrow(/N must be even/);
    expect(() => s4dInit('quad' as 'lin', 4)).toThrow(/kind must be one of/);
  });
});
