import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ComplexArray } from '../src/complex';
import { type HippoKind, hippo, minimumRank, nplr, rankCorrection } from '../src/hippo';
import { luFactor } from '../src/linalg';
import { maxAbs, maxAbsDiff } from './helpers';

const S3 = Math.sqrt(3);
const S5 = Math.sqrt(5);
const S15 = Math.sqrt(15);
const KINDS: HippoKind[] = ['legs', 'legt', 'lagt', 'fourier'];

describe('hippo', () => {
  it('builds the 3×3 matrices of each measure by hand', () => {
    const legs = hippo('legs', 3);
    expect(maxAbsDiff(legs.A, [-1, 0, 0, -S3, -2, 0, -S5, -S15, -3])).toBeLessThan(1e-15);
    expect(maxAbsDiff(legs.B, [1, S3, S5])).toBeLessThan(1e-15);

    const legt = hippo('legt', 3);
    const expectedLegt = [-1, S3, -S5, -S3, -3, S15, -S5, -S15, -5].map((v) => v / 2);
    expect(maxAbsDiff(legt.A, expectedLegt)).toBeLessThan(1e-15);
    expect(maxAbsDiff(legt.B, [0.5, S3 / 2, S5 / 2])).toBeLessThan(1e-15);

    const lagt = hippo('lagt', 3);
    expect(maxAbsDiff(lagt.A, [-0.5, 0, 0, -1, -0.5, 0, -1, -1, -0.5])).toBeLessThan(1e-15);
    expect(maxAbsDiff(lagt.B, [1, 1, 1])).toBeLessThan(1e-15);

    const fourier = hippo('fourier', 4);
    const r2 = Math.SQRT2;
    const expectedFourier = [-1, 0, -r2, 0, 0, 0, 0, 0, -r2, 0, -2, -Math.PI, 0, 0, Math.PI, 0];
    expect(maxAbsDiff(fourier.A, expectedFourier)).toBeLessThan(1e-15);
    expect(maxAbsDiff(fourier.B, [1, 0, r2, 0])).toBeLessThan(1e-15);
  });

  for (const kind of KINDS) {
    it(`${kind}: A + PᵀP is a multiple of I plus a skew-symmetric matrix`, () => {
      const N = 24;
      const { A } = hippo(kind, N);
      const rank = minimumRank(kind);
      const P = rankCorrection(kind, N, rank);
      const AP = Float64Array.from(A);
      for (let r = 0; r < rank; r++) {
        for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) AP[i * N + j] += P[r * N + i] * P[r * N + j];
      }
      const c = AP[0];
      expect(c).toBeCloseTo(kind === 'legs' ? -0.5 : 0, 14);
      for (let i = 0; i < N; i++) {
        expect(AP[i * N + i]).toBeCloseTo(c, 12);
        for (let j = 0; j < i; j++) expect(AP[i * N + j] + AP[j * N + i]).toBeCloseTo(0, 12);
      }
    });
  }

  it('pads the rank correction with zero rows and refuses too small a rank for LegT', () => {
    const P = rankCorrection('legs', 5, 3);
    expect(P.length).toBe(15);
    expect(maxAbs(P.subarray(5))).toBe(0);
    expect(() => rankCorrection('legt', 4, 1)).toThrow(/needs rank >= 2, got 1/);
    expect(() => hippo('legx' as HippoKind, 4)).toThrow(/kind must be one of/);
    expect(() => hippo('legs', 0)).toThrow(/positive integer, got 0/);
  });

  // LegS A is extremely non-normal (its eigenvalues are ill-conditioned: a relative perturbation of 1e-16
  // moves them by O(1) once N reaches ~20), so its spectrum can be checked numerically only for small N.
  for (const N of [4, 6, 8]) {
    it(`LegS N=${N}: det(A − λI) = Π_k (−k − λ), computed by LU of the dense A, so the eigenvalues are −1…−N`, () => {
      const { A } = hippo('legs', N);
      const points = [0.7, 3.1, -N - 2.3, ...Array.from({ length: N }, (_, k) => -k - 0.5)];
      for (const lambda of points) {
        const shifted = Float64Array.from(A);
        for (let i = 0; i < N; i++) shifted[i * N + i] -= lambda;
        const { lu, pivots } = luFactor(shifted, N);
        let logAbs = 0;
        let sign = 1;
        for (let i = 0; i < N; i++) {
          logAbs += Math.log(Math.abs(lu[i * N + i]));
          sign *= Math.sign(lu[i * N + i]) * (pivots[i] !== i ? -1 : 1);
        }
        let expectedLog = 0;
        let expectedSign = 1;
        for (let k = 1; k <= N; k++) {
          expectedLog += Math.log(Math.abs(-k - lambda));
          expectedSign *= Math.sign(-k - lambda);
        }
        expect(sign).toBe(expectedSign);
        expect(Math.abs(logAbs - expectedLog)).toBeLessThan(1e-9);
      }
    });

    it(`LegS N=${N}: the DPLR form's characteristic function 1 − Σ|P̃|²/(W − λ) has exactly the roots −1…−N`, () => {
      // Matrix determinant lemma: det(A − λ)/det(Λ − λ) = 1 − P̃*(Λ − λ)⁻¹P̃ over the full conjugate-paired
      // spectrum. Matching the rational function Π(λ + k)/Π(λ − W_j) at 3N points pins down all N roots.
      const { W, P } = nplr('legs', N, { bClip: null });
      const half = N / 2;
      let worst = 0;
      for (let t = 0; t < 3 * N; t++) {
        const angle = (2 * Math.PI * t) / (3 * N);
        const lr = (N / 2 + 1) * Math.cos(angle) - (N + 1) / 2;
        const li = (N / 2 + 1) * Math.sin(angle);
        let lhsRe = 1;
        let lhsIm = 0;
        let rhsRe = 1;
        let rhsIm = 0;
        const mul = (ar: number, ai: number) => {
          const re = rhsRe * ar - rhsIm * ai;
          rhsIm = rhsRe * ai + rhsIm * ar;
          rhsRe = re;
        };
        const div = (br: number, bi: number) => {
          const m = br * br + bi * bi;
          mul(br / m, -bi / m);
        };
        for (let j = 0; j < half; j++) {
          const weight = P.re[j] ** 2 + P.im[j] ** 2;
          for (const conj of [1, -1]) {
            const dr = W.re[j] - lr;
            const di = conj * W.im[j] - li;
            const m = dr * dr + di * di;
            lhsRe -= (weight * dr) / m;
            lhsIm += (weight * di) / m;
            div(lr - W.re[j], li - conj * W.im[j]);
          }
        }
        for (let k = 1; k <= N; k++) mul(lr + k, li);
        worst = Math.max(worst, Math.hypot(lhsRe - rhsRe, lhsIm - rhsIm) / Math.hypot(rhsRe, rhsIm));
      }
      expect(worst).toBeLessThan(1e-9);
    });
  }
});

/** 2·Re(X Y) for complex X (rows×inner) and Y (inner×cols). */
function twiceRealProduct(x: ComplexArray, y: ComplexArray, rows: number, inner: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let p = 0; p < inner; p++) {
      for (let j = 0; j < cols; j++) {
        out[i * cols + j] += 2 * (x.re[i * inner + p] * y.re[p * cols + j] - x.im[i * inner + p] * y.im[p * cols + j]);
      }
    }
  }
  return out;
}

describe('nplr', () => {
  for (const kind of KINDS) {
    for (const N of [2, 8, 64, 128]) {
      it(`${kind} N=${N}: 2Re(V diag(W) V*) − PᵀP = A, 2Re(V B̃) = B, 2Re(V P̃) = P, [V, V̄] unitary`, () => {
        const { A, B } = hippo(kind, N);
        const rank = minimumRank(kind);
        const P = rankCorrection(kind, N, rank);
        const form = nplr(kind, N, { bClip: null });
        const half = N / 2;
        const { V, W } = form;
        // V diag(W) V*
        const VW: ComplexArray = { re: new Float64Array(N * half), im: new Float64Array(N * half) };
        const Vstar: ComplexArray = { re: new Float64Array(half * N), im: new Float64Array(half * N) };
        for (let i = 0; i < N; i++) {
          for (let k = 0; k < half; k++) {
            const vr = V.re[i * half + k];
            const vi = V.im[i * half + k];
            VW.re[i * half + k] = vr * W.re[k] - vi * W.im[k];
            VW.im[i * half + k] = vr * W.im[k] + vi * W.re[k];
            Vstar.re[k * N + i] = vr;
            Vstar.im[k * N + i] = -vi;
          }
        }
        const normal = twiceRealProduct(VW, Vstar, N, half, N);
        for (let r = 0; r < rank; r++) {
          for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) normal[i * N + j] -= P[r * N + i] * P[r * N + j];
        }
        const tolerance = 1e-12 * Math.max(1, maxAbs(A)) * N;
        expect(maxAbsDiff(normal, A)).toBeLessThan(Math.max(tolerance, 1e-9));

        const Bt = { re: form.B.re, im: form.B.im };
        expect(maxAbsDiff(twiceRealProduct(V, Bt, N, half, 1), B)).toBeLessThan(1e-12 * N);
        for (let r = 0; r < rank; r++) {
          const Pt = { re: form.P.re.subarray(r * half, (r + 1) * half), im: form.P.im.subarray(r * half, (r + 1) * half) };
          expect(maxAbsDiff(twiceRealProduct(V, Pt, N, half, 1), P.subarray(r * N, (r + 1) * N))).toBeLessThan(1e-12 * N);
        }
        // V*V = I and VᵀV = 0: the kept half is orthogonal to its conjugates.
        for (let a = 0; a < half; a++) {
          for (let b = 0; b < half; b++) {
            let hr = 0;
            let hi = 0;
            let tr = 0;
            let ti = 0;
            for (let i = 0; i < N; i++) {
              const ar = V.re[i * half + a];
              const ai = V.im[i * half + a];
              const br = V.re[i * half + b];
              const bi = V.im[i * half + b];
              hr += ar * br + ai * bi;
              hi += ar * bi - ai * br;
              tr += ar * br - ai * bi;
              ti += ar * bi + ai * br;
            }
            expect(Math.abs(hr - (a === b ? 1 : 0)) + Math.abs(hi)).toBeLessThan(1e-12);
            expect(Math.abs(tr) + Math.abs(ti)).toBeLessThan(1e-12);
          }
        }
        // Kept eigenvalues: constant real part, ascending non-positive imaginary parts.
        for (let k = 0; k < half; k++) {
          expect(W.re[k]).toBeCloseTo(W.re[0], 12);
          expect(W.im[k]).toBeLessThanOrEqual(1e-9);
          if (k > 0) expect(W.im[k]).toBeGreaterThanOrEqual(W.im[k - 1]);
        }
      });
    }
  }

  for (const N of [8, 64, 256]) {
    it(`LegS N=${N}: P̃ = √½·B̃ exactly and 2Σ|B̃|² = ‖B‖² = N²`, () => {
      const { P, B, W } = nplr('legs', N, { bClip: null });
      const half = N / 2;
      let energy = 0;
      for (let k = 0; k < half; k++) {
        expect(Math.abs(P.re[k] - Math.SQRT1_2 * B.re[k])).toBeLessThan(1e-12 * N);
        expect(Math.abs(P.im[k] - Math.SQRT1_2 * B.im[k])).toBeLessThan(1e-12 * N);
        energy += 2 * (B.re[k] ** 2 + B.im[k] ** 2);
        expect(W.re[k]).toBeCloseTo(-0.5, 12);
      }
      expect(energy / (N * N)).toBeCloseTo(1, 12);
    });
  }

  it('clips Im B̃ to ±2 by default, as the repository does, and leaves Re B̃, W, P̃ alone', () => {
    const exact = nplr('legs', 64, { bClip: null });
    const clipped = nplr('legs', 64);
    expect(maxAbs(exact.B.im)).toBeGreaterThan(2);
    expect(maxAbs(clipped.B.im)).toBeLessThanOrEqual(2);
    expect(maxAbsDiff(clipped.B.re, exact.B.re)).toBe(0);
    expect(maxAbsDiff(clipped.W.im, exact.W.im)).toBe(0);
    expect(maxAbsDiff(clipped.P.im, exact.P.im)).toBe(0);
    for (let k = 0; k < 32; k++) expect(clipped.B.im[k]).toBe(Math.max(-2, Math.min(2, exact.B.im[k])));
  });

  it('fourier: keeps (e₀ + i e₁)/√2 for the double zero eigenvalue, and πk frequencies otherwise', () => {
    const N = 16;
    const { W, V } = nplr('fourier', N, { bClip: null });
    const half = N / 2;
    expect(Math.hypot(W.re[half - 1], W.im[half - 1])).toBeLessThan(1e-12);
    expect(V.re[half - 1]).toBeCloseTo(Math.SQRT1_2, 15);
    expect(V.im[half + half - 1]).toBeCloseTo(Math.SQRT1_2, 15);
    for (let k = 0; k < half - 1; k++) expect(W.im[k]).toBeCloseTo(-Math.PI * (half - 1 - k), 11);
  });

  it('agrees with numpy.linalg.eigh (LAPACK) on W, B̃ and P̃ under the same sign rule (test/fixtures)', () => {
    const cases = JSON.parse(readFileSync(new URL('./fixtures/nplr.json', import.meta.url), 'utf8')) as Array<{
      kind: HippoKind;
      N: number;
      W_re: number;
      W_im: number[];
      B_re: number[];
      B_im: number[];
      P_re: number[];
      P_im: number[];
    }>;
    expect(cases.length).toBe(6);
    for (const ref of cases) {
      const form = nplr(ref.kind, ref.N, { bClip: null });
      const scale = Math.max(1, maxAbs(ref.W_im));
      expect(maxAbsDiff(form.W.im, ref.W_im) / scale).toBeLessThan(1e-12);
      expect(Math.abs(form.W.re[0] - ref.W_re)).toBeLessThan(1e-12);
      expect(maxAbsDiff(form.B.re, ref.B_re)).toBeLessThan(1e-10);
      expect(maxAbsDiff(form.B.im, ref.B_im)).toBeLessThan(1e-10);
      expect(maxAbsDiff(form.P.re, ref.P_re)).toBeLessThan(1e-10);
      expect(maxAbsDiff(form.P.im, ref.P_im)).toBeLessThan(1e-10);
    }
  });

  it('rejects odd N', () => {
    expect(() => nplr('legs', 7)).toThrow(/N must be even/);
  });
});
