import { describe, expect, it } from 'vitest';
import type { ComplexArray } from '../src/complex';
import { discretizeDense, runDense } from '../src/discretize';
import { fft, irfft } from '../src/fft';
import { type HippoKind, hippo, minimumRank, nplr } from '../src/hippo';
import { type DplrSsm, dplrCTilde, dplrKernel, dplrToDense, s4dKernel, unrollKernel } from '../src/kernels';
import { s4dInit } from '../src/s4d';
import { maxAbs, maxAbsDiff, normals, randomGenerator } from './helpers';

function naiveDft(x: ComplexArray, sign: number): ComplexArray {
  const n = x.re.length;
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    for (let l = 0; l < n; l++) {
      const angle = (sign * 2 * Math.PI * ((k * l) % n)) / n;
      re[k] += x.re[l] * Math.cos(angle) - x.im[l] * Math.sin(angle);
      im[k] += x.re[l] * Math.sin(angle) + x.im[l] * Math.cos(angle);
    }
  }
  return { re, im };
}

function randomComplex(random: () => number, n: number): ComplexArray {
  return { re: normals(random, n), im: normals(random, n) };
}

/** The relative error the kernel tests allow. */
function relativeError(actual: Float64Array, expected: Float64Array): number {
  return maxAbsDiff(actual, expected) / maxAbs(expected);
}

describe('fft', () => {
  for (const n of [1, 2, 8, 12, 31, 64, 100]) {
    it(`n=${n}: equals the naive DFT both ways (radix-2 or Bluestein)`, () => {
      const x = randomComplex(randomGenerator(n), n);
      const forward = fft(x);
      const reference = naiveDft(x, -1);
      expect(maxAbsDiff(forward.re, reference.re)).toBeLessThan(1e-12 * n);
      expect(maxAbsDiff(forward.im, reference.im)).toBeLessThan(1e-12 * n);
      const back = fft(forward, true);
      expect(maxAbsDiff(back.re, x.re)).toBeLessThan(1e-13 * n);
      expect(maxAbsDiff(back.im, x.im)).toBeLessThan(1e-13 * n);
    });
  }

  it('irfft inverts the half spectrum of a real signal, for even and odd n', () => {
    for (const n of [16, 17, 30]) {
      const signal = normals(randomGenerator(n + 5), n);
      const spectrum = fft({ re: signal, im: new Float64Array(n) });
      const bins = Math.floor(n / 2) + 1;
      const half = { re: spectrum.re.slice(0, bins), im: spectrum.im.slice(0, bins) };
      expect(maxAbsDiff(irfft(half, n), signal)).toBeLessThan(1e-13);
    }
  });
});

describe('s4dKernel', () => {
  for (const kind of ['lin', 'inv', 'legs', 'real'] as const) {
    for (const method of ['zoh', 'bilinear'] as const) {
      it(`S4D-${kind}, ${method}: equals the unrolled real 2×2-block system (expm / solve) to 1e-9`, () => {
        const N = 16;
        const half = N / 2;
        const { A, B } = s4dInit(kind, N);
        const C = randomComplex(randomGenerator(7), half);
        const dt = kind === 'inv' ? 0.002 : 0.05;
        const L = 200;
        const kernel = s4dKernel({ A, B, C, dt, L, method });

        // Mode a = α + iω on x = xr + i·xi is the real block [[α, −ω], [ω, α]]; y = 2Re(C x) = 2(Cr xr − Ci xi).
        const n = 2 * half;
        const Ad = new Float64Array(n * n);
        const Bd = new Float64Array(n);
        const c = new Float64Array(n);
        for (let k = 0; k < half; k++) {
          const r = 2 * k;
          Ad[r * n + r] = A.re[k];
          Ad[r * n + r + 1] = -A.im[k];
          Ad[(r + 1) * n + r] = A.im[k];
          Ad[(r + 1) * n + r + 1] = A.re[k];
          Bd[r] = B.re[k];
          Bd[r + 1] = B.im[k];
          c[r] = 2 * C.re[k];
          c[r + 1] = -2 * C.im[k];
        }
        const system = discretizeDense(Ad, Bd, dt, method);
        const impulse = new Float64Array(L);
        impulse[0] = 1;
        const states = runDense(system, impulse);
        const reference = new Float64Array(L);
        for (let l = 0; l < L; l++) {
          for (let i = 0; i < n; i++) reference[l] += c[i] * states[l * n + i];
        }
        expect(relativeError(kernel, reference)).toBeLessThan(1e-9);
      });
    }
  }
});

function hippoDplr(kind: HippoKind, N: number, C: ComplexArray, dt: number): DplrSsm {
  const form = nplr(kind, N, { bClip: null, rank: minimumRank(kind) });
  return { A: form.W, P: form.P, B: form.B, C, dt };
}

describe('dplrKernel', () => {
  const cases: Array<[string, () => DplrSsm]> = [
    ['S4-LegS', () => hippoDplr('legs', 16, randomComplex(randomGenerator(1), 8), 0.05)],
    ['S4-LegT (rank 2)', () => hippoDplr('legt', 16, randomComplex(randomGenerator(2), 8), 0.05)],
    ['S4-FouT (zero eigenvalue)', () => hippoDplr('fourier', 16, randomComplex(randomGenerator(3), 8), 0.02)],
    [
      'random DPLR, rank 3',
      () => {
        const random = randomGenerator(4);
        const half = 6;
        const A = { re: normals(random, half).map((v) => -Math.exp(v)), im: normals(random, half).map((v) => 4 * v) };
        const P = randomComplex(random, 3 * half);
        for (let k = 0; k < P.re.length; k++) {
          P.re[k] *= 0.3;
          P.im[k] *= 0.3;
        }
        return { A, P, B: randomComplex(random, half), C: randomComplex(random, half), dt: 0.1 };
      },
    ],
  ];
  for (const [name, make] of cases) {
    for (const L of [64, 50, 33]) {
      it(`${name}, L=${L}: the Cauchy/Woodbury/FFT kernel with C̃ equals the unroll K_l = Cᵀ Ā^l B̄ to 1e-9`, () => {
        const ssm = make();
        const reference = unrollKernel(dplrToDense(ssm), L);
        const kernel = dplrKernel({ ...ssm, C: dplrCTilde(ssm, L), L });
        expect(relativeError(kernel, reference)).toBeLessThan(1e-9);
      });
    }
  }

  it('the unrolled full complex system is real (conjugate symmetry), so the kernels compare like for like', () => {
    const ssm = hippoDplr('legs', 8, randomComplex(randomGenerator(9), 4), 0.1);
    const { dA, dB, C } = dplrToDense(ssm);
    let x = { re: dB.re, im: dB.im };
    for (let l = 0; l < 10; l++) {
      let imag = 0;
      for (let i = 0; i < 8; i++) imag += C.re[i] * x.im[i] + C.im[i] * x.re[i];
      expect(Math.abs(imag)).toBeLessThan(1e-12);
      const next = { re: new Float64Array(8), im: new Float64Array(8) };
      for (let i = 0; i < 8; i++) {
        for (let j = 0; j < 8; j++) {
          next.re[i] += dA.re[i * 8 + j] * x.re[j] - dA.im[i * 8 + j] * x.im[j];
          next.im[i] += dA.re[i * 8 + j] * x.im[j] + dA.im[i * 8 + j] * x.re[j];
        }
      }
      x = next;
    }
  });

  it('end to end: the S4 kernel of nplr(LegS) equals the real HiPPO-LegS system cᵀ Ā^l B̄ (bilinear) for C = Vᵀc', () => {
    const N = 16;
    const half = N / 2;
    const dt = 0.03;
    const L = 128;
    const { A, B } = hippo('legs', N);
    const c = normals(randomGenerator(11), N);
    const dense = discretizeDense(A, B, dt, 'bilinear');
    const impulse = new Float64Array(L);
    impulse[0] = 1;
    const states = runDense(dense, impulse);
    const reference = new Float64Array(L);
    for (let l = 0; l < L; l++) for (let i = 0; i < N; i++) reference[l] += c[i] * states[l * N + i];

    const form = nplr('legs', N, { bClip: null });
    const C = { re: new Float64Array(half), im: new Float64Array(half) };
    for (let k = 0; k < half; k++) {
      for (let i = 0; i < N; i++) {
        C.re[k] += form.V.re[i * half + k] * c[i];
        C.im[k] += form.V.im[i * half + k] * c[i];
      }
    }
    const ssm: DplrSsm = { A: form.W, P: form.P, B: form.B, C, dt };
    const kernel = dplrKernel({ ...ssm, C: dplrCTilde(ssm, L), L });
    expect(relativeError(kernel, reference)).toBeLessThan(1e-9);
  });

  it('rejects a P whose size is not a multiple of N/2', () => {
    const ssm = hippoDplr('legs', 8, randomComplex(randomGenerator(1), 4), 0.1);
    expect(() => dplrKernel({ ...ssm, P: { re: new Float64Array(5), im: new Float64Array(5) }, L: 8 })).toThrow(/P must be rank×4/);
  });
});
