import { tensor, tidy } from '@ssmjs/core';
import { dplrCTilde, dplrKernel as dplrKernel64, nplr, s4dInit, s4dKernel as s4dKernel64, type ComplexArray } from '@ssmjs/hippo';
import { describe, expect, it } from 'vitest';
import { dplrKernel, s4dKernel } from '../src/index';
import { randomComplex, randomGenerator, relativeError, roundToF32, row, stackChannels } from './helpers';

/** Float32 kernels at a realistic size (N = 64, L = 1024) against hippo's float64 ones, over Δ from 0.001 to 0.1. */
describe('float32 accuracy at N = 64, L = 1024', () => {
  const N = 64;
  const L = 1024;
  const dts = [0.001, 0.01, 0.1].map((d) => Math.exp(Math.fround(Math.log(d))));
  const logDt = () => tensor(dts.map(Math.log));
  const random = randomGenerator(1);

  for (const method of ['zoh', 'bilinear'] as const) {
    it(`S4D-Lin, ${method}: within 3e-5 of the largest kernel value`, () => {
      const A = roundToF32(s4dInit('lin', N).A);
      const B = { re: new Float64Array(N / 2).fill(1), im: new Float64Array(N / 2) };
      const Cs = dts.map(() => roundToF32(randomComplex(random, N / 2)));
      const K = tidy(() => s4dKernel({ A: stackChannels(dts.map(() => A)), B: stackChannels(dts.map(() => B)), C: stackChannels(Cs), logDt: logDt(), L, method }));
      const got = K.dataSync();
      K.dispose();
      dts.forEach((dt, h) => expect(relativeError(row(got, h, L), s4dKernel64({ A, B, C: Cs[h], dt, L, method }))).toBeLessThan(3e-5));
    });
  }

  it('S4 (LegS DPLR): within 1e-5', () => {
    const form = nplr('legs', N);
    const A = roundToF32(form.W);
    const P: ComplexArray = roundToF32({ re: form.P.re.slice(0, N / 2), im: form.P.im.slice(0, N / 2) });
    const B = roundToF32(form.B);
    const Cs = dts.map((dt) => roundToF32(dplrCTilde({ A, P, B, C: randomComplex(random, N / 2), dt }, L)));
    const stack = (c: ComplexArray) => stackChannels(dts.map(() => c));
    const K = tidy(() => dplrKernel({ A: stack(A), P: stack(P), B: stack(B), C: stackChannels(Cs), logDt: logDt(), L }));
    const got = K.dataSync();
    K.dispose();
    dts.forEach((dt, h) => expect(relativeError(row(got, h, L), dplrKernel64({ A, P, B, C: Cs[h], dt, L }))).toBeLessThan(1e-5));
  });
});
