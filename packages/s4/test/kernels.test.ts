import { checkGradients, dispose, memory, mul, randn, sum, tensor, tidy, type Tensor } from '@ssmjs/core';
import {
  dplrCTilde, dplrKernel as dplrKernel64, dplrToDense, nplr, s4dInit, s4dKernel as s4dKernel64, s4dRecurrence,
  unrollKernel, type ComplexArray,
} from '@ssmjs/hippo';
import { describe, expect, it } from 'vitest';
import { dplrKernel, s4dKernel, type Discretization } from '../src/index';
import { randomComplex, randomGenerator, relativeError, roundToF32, row, stackChannels } from './helpers';

const TOLERANCE = 1e-5;

/** H channels of a diagonal SSM (S4D-Lin A, random B and C), each with its own step. */
function diagonalChannels(H: number, N: number, seed: number) {
  const random = randomGenerator(seed);
  const { A } = s4dInit('lin', N);
  const dts = Array.from({ length: H }, (_, h) => Math.fround(Math.exp(Math.log(0.01) + (h / Math.max(1, H - 1)) * Math.log(10))));
  return {
    A: roundToF32(A),
    Bs: Array.from({ length: H }, () => roundToF32(randomComplex(random, N / 2))),
    Cs: Array.from({ length: H }, () => roundToF32(randomComplex(random, N / 2))),
    dts,
  };
}

describe('s4dKernel', () => {
  for (const method of ['zoh', 'bilinear'] as Discretization[]) {
    for (const L of [1, 37, 64]) {
      it(`${method}, L = ${L}: equals hippo's float64 kernel and the unrolled recurrence`, () => {
        const H = 3;
        const N = 8;
        const ch = diagonalChannels(H, N, 1 + L);
        const K = tidy(() =>
          s4dKernel({
            A: stackChannels(ch.Bs.map(() => ch.A)),
            B: stackChannels(ch.Bs),
            C: stackChannels(ch.Cs),
            logDt: tensor(ch.dts.map(Math.log)),
            L,
            method,
          }),
        );
        expect(K.shape).toEqual([H, L]);
        const got = K.dataSync();
        K.dispose();
        for (let h = 0; h < H; h++) {
          // logDt round-trips through float32, so the reference uses the step the tensor kernel sees.
          const dt = Math.exp(Math.fround(Math.log(ch.dts[h])));
          const ssm = { A: ch.A, B: ch.Bs[h], C: ch.Cs[h], dt };
          const reference = s4dKernel64({ ...ssm, L, method });
          const impulse = new Float64Array(L);
          impulse[0] = 1;
          const unrolled = s4dRecurrence({ ...ssm, method }, impulse);
          expect(relativeError(row(got, h, L), reference)).toBeLessThan(TOLERANCE);
          expect(relativeError(row(got, h, L), unrolled)).toBeLessThan(TOLERANCE);
        }
      });
    }
  }
});

/** H channels of LegS in DPLR form, random output matrices C turned into C̃ for length L, one step per channel. */
function dplrChannels(H: number, N: number, L: number, seed: number) {
  const random = randomGenerator(seed);
  const form = nplr('legs', N);
  const A = roundToF32(form.W);
  const P: ComplexArray = roundToF32({ re: form.P.re.slice(0, N / 2), im: form.P.im.slice(0, N / 2) });
  const B = roundToF32(form.B);
  const dts = Array.from({ length: H }, (_, h) => Math.exp(Math.fround(Math.log(0.02 * (h + 1)))));
  const outputs = dts.map(() => randomComplex(random, N / 2));
  const Cs = dts.map((dt, h) => roundToF32(dplrCTilde({ A, P, B, C: outputs[h], dt }, L)));
  return { A, P, B, Cs, outputs, dts };
}

describe('dplrKernel', () => {
  for (const L of [1, 2, 31, 64]) {
    it(`LegS, L = ${L}: equals hippo's Cauchy kernel and the unroll C Ā^l B̄ of the dense system`, () => {
      const H = 3;
      const N = 16;
      const ch = dplrChannels(H, N, L, 7 + L);
      const K = tidy(() =>
        dplrKernel({
          A: stackChannels(ch.Cs.map(() => ch.A)),
          P: stackChannels(ch.Cs.map(() => ch.P)),
          B: stackChannels(ch.Cs.map(() => ch.B)),
          C: stackChannels(ch.Cs),
          logDt: tensor(ch.dts.map(Math.log)),
          L,
        }),
      );
      expect(K.shape).toEqual([H, L]);
      const got = K.dataSync();
      K.dispose();
      for (let h = 0; h < H; h++) {
        const dt = Math.exp(Math.fround(Math.log(ch.dts[h])));
        const ssm = { A: ch.A, P: ch.P, B: ch.B, C: ch.Cs[h], dt };
        const reference = dplrKernel64({ ...ssm, L });
        expect(relativeError(row(got, h, L), reference)).toBeLessThan(TOLERANCE);
        // The unroll steps the dense bilinear system with the output matrix C that C̃ was made from.
        const unrolled = unrollKernel(dplrToDense({ ...ssm, C: ch.outputs[h] }), L);
        expect(relativeError(row(got, h, L), unrolled)).toBeLessThan(TOLERANCE);
      }
    });
  }

  it('frees everything it makes inside tidy', () => {
    const before = memory().liveTensors;
    const ch = dplrChannels(2, 8, 16, 3);
    const inputs = {
      A: stackChannels([ch.A, ch.A]),
      P: stackChannels([ch.P, ch.P]),
      B: stackChannels([ch.B, ch.B]),
      C: stackChannels(ch.Cs),
      logDt: tensor(ch.dts.map(Math.log)),
    };
    tidy(() => {
      dplrKernel({ ...inputs, L: 16 });
    });
    dispose(inputs);
    expect(memory().liveTensors).toBe(before);
  });
});

describe('kernel gradients', () => {
  /** sum(K·w) with w fixed and random, so no gradient cancels. */
  const weighted = (K: Tensor, seed: number) => {
    const w = randn(K.shape as number[], { seed });
    const out = sum(mul(K, w));
    w.dispose();
    return out;
  };

  for (const method of ['zoh', 'bilinear'] as Discretization[]) {
    it(`s4dKernel (${method}) passes a finite-difference check in A, B, C and log Δ`, async () => {
      const H = 2;
      const n = 3;
      const random = randomGenerator(5);
      const aRe = tensor(Array.from({ length: H * n }, () => -0.3 - random()), [H, n]);
      const aIm = tensor(Array.from({ length: H * n }, () => 3 * (random() - 0.5)), [H, n]);
      const [bRe, bIm, cRe, cIm] = [1, 2, 3, 4].map((s) => randn([H, n], { seed: s }));
      const logDt = tensor([Math.log(0.05), Math.log(0.2)]);
      const xs = [aRe, aIm, bRe, bIm, cRe, cIm, logDt];
      const f = (ar: Tensor, ai: Tensor, br: Tensor, bi: Tensor, cr: Tensor, ci: Tensor, dt: Tensor) =>
        weighted(s4dKernel({ A: { re: ar, im: ai }, B: { re: br, im: bi }, C: { re: cr, im: ci }, logDt: dt, L: 12, method }), 9);
      const r = await checkGradients(f as (...t: Tensor[]) => Tensor, xs, { samples: 12 });
      expect(r.failures).toEqual([]);
      dispose(xs);
    });
  }

  it('dplrKernel passes a finite-difference check in Λ, P, B, C̃ and log Δ', async () => {
    const H = 2;
    const N = 6;
    const ch = dplrChannels(H, N, 10, 11);
    const A = stackChannels([ch.A, ch.A]);
    const P = stackChannels([ch.P, ch.P]);
    const B = stackChannels([ch.B, ch.B]);
    const C = stackChannels(ch.Cs);
    const logDt = tensor(ch.dts.map(Math.log));
    const xs = [A.re, A.im, P.re, P.im, B.re, B.im, C.re, C.im, logDt];
    const f = (...t: Tensor[]) =>
      weighted(
        dplrKernel({
          A: { re: t[0], im: t[1] }, P: { re: t[2], im: t[3] }, B: { re: t[4], im: t[5] }, C: { re: t[6], im: t[7] }, logDt: t[8], L: 10,
        }),
        4,
      );
    const r = await checkGradients(f, xs, { samples: 6, eps: 1e-3 });
    expect(r.failures).toEqual([]);
    dispose(xs);
  });
});
