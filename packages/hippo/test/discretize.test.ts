import { describe, expect, it } from 'vitest';
import { discretizeDense, discretizeDiagonal } from '../src/discretize';
import { hippo } from '../src/hippo';
import { expm, identity, matmul, solve } from '../src/linalg';
import { s4dInit } from '../src/s4d';
import { maxAbs, maxAbsDiff, normals, randomGenerator } from './helpers';

/** Classic RK4 on x' = A x + B u with constant u, many small steps: an expm-free reference for ZOH. */
function rk4(A: Float64Array, B: Float64Array, u: number, x0: Float64Array, time: number, steps: number): Float64Array {
  const n = x0.length;
  const h = time / steps;
  const f = (x: Float64Array) => {
    const dx = matmul(A, x, n, n, 1);
    for (let i = 0; i < n; i++) dx[i] += B[i] * u;
    return dx;
  };
  let x = Float64Array.from(x0);
  for (let s = 0; s < steps; s++) {
    const k1 = f(x);
    const k2 = f(x.map((v, i) => v + (h / 2) * k1[i]));
    const k3 = f(x.map((v, i) => v + (h / 2) * k2[i]));
    const k4 = f(x.map((v, i) => v + h * k3[i]));
    x = x.map((v, i) => v + (h / 6) * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]));
  }
  return x;
}

describe('expm', () => {
  it('gives the rotation matrix for a skew 2×2 generator and e^d on a diagonal', () => {
    const theta = 7.3;
    const r = expm(Float64Array.from([0, -theta, theta, 0]), 2);
    expect(maxAbsDiff(r, [Math.cos(theta), -Math.sin(theta), Math.sin(theta), Math.cos(theta)])).toBeLessThan(1e-13);
    const d = expm(Float64Array.from([-3, 0, 0, 2.5]), 2);
    expect(maxAbsDiff(d, [Math.exp(-3), 0, 0, Math.exp(2.5)])).toBeLessThan(1e-13 * Math.exp(2.5));
  });

  it('sums the finite series of a nilpotent matrix exactly', () => {
    // N strictly upper triangular: e^N = I + N + N²/2.
    const N = Float64Array.from([0, 2, 3, 0, 0, 5, 0, 0, 0]);
    const expected = identity(3);
    const N2 = matmul(N, N, 3, 3, 3);
    for (let k = 0; k < 9; k++) expected[k] += N[k] + N2[k] / 2;
    expect(maxAbsDiff(expm(N, 3), expected)).toBeLessThan(1e-14 * maxAbs(expected));
  });

  it('satisfies e^{A}·e^{−A} = I and e^{2A} = (e^{A})² for the LegS matrix', () => {
    const n = 16;
    const { A } = hippo('legs', n);
    const scaled = A.map((v) => v * 0.05);
    const forward = expm(scaled, n);
    const backward = expm(scaled.map((v) => -v), n);
    expect(maxAbsDiff(matmul(forward, backward, n, n, n), identity(n))).toBeLessThan(1e-11);
    const twice = expm(scaled.map((v) => 2 * v), n);
    expect(maxAbsDiff(twice, matmul(forward, forward, n, n, n))).toBeLessThan(1e-12);
  });
});

describe('discretizeDense', () => {
  for (const kind of ['legs', 'legt', 'lagt', 'fourier'] as const) {
    it(`${kind}: one ZOH step equals the exact solution for constant input (RK4 with 2000 substeps)`, () => {
      const n = 8;
      const dt = 0.1;
      const { A, B } = hippo(kind, n);
      const { dA, dB } = discretizeDense(A, B, dt, 'zoh');
      const x0 = normals(randomGenerator(3), n);
      const u = 0.7;
      const step = matmul(dA, x0, n, n, 1).map((v, i) => v + dB[i] * u);
      expect(maxAbsDiff(step, rk4(A, B, u, x0, dt, 2000))).toBeLessThan(1e-11);
    });
  }

  it('ZOH B̄ equals A⁻¹(e^{dt A} − I)B when A is invertible', () => {
    const n = 12;
    const dt = 0.03;
    const { A, B } = hippo('legs', n);
    const { dA, dB } = discretizeDense(A, B, dt, 'zoh');
    expect(maxAbsDiff(dA, expm(A.map((v) => v * dt), n))).toBeLessThan(1e-14);
    const rhs = matmul(dA, B, n, n, 1).map((v, i) => v - B[i]);
    expect(maxAbsDiff(dB, solve(A, rhs, n, 1))).toBeLessThan(1e-12);
  });

  it('bilinear and ZOH agree to O(dt³) per step as dt → 0', () => {
    const n = 8;
    const { A, B } = hippo('legt', n);
    const gaps: number[] = [];
    for (const dt of [1e-2, 5e-3, 2.5e-3]) {
      const zoh = discretizeDense(A, B, dt, 'zoh');
      const bil = discretizeDense(A, B, dt, 'bilinear');
      // Same Ā to third order; bilinear B̄ is the midpoint-rule integral, so it differs at second order.
      gaps.push(maxAbsDiff(zoh.dA, bil.dA));
      expect(maxAbsDiff(zoh.dB, bil.dB)).toBeLessThan(10 * dt * dt);
    }
    expect(gaps[0] / gaps[1]).toBeGreaterThan(7.5);
    expect(gaps[0] / gaps[1]).toBeLessThan(8.5);
    expect(gaps[1] / gaps[2]).toBeGreaterThan(7.5);
    expect(gaps[1] / gaps[2]).toBeLessThan(8.5);
  });

  it('handles several input columns and rejects a B of the wrong size', () => {
    const { A } = hippo('legs', 4);
    const B2 = Float64Array.from([1, 0, 0, 1, 1, 1, 2, -1]); // 4×2
    const both = discretizeDense(A, B2, 0.1, 'bilinear');
    const first = discretizeDense(A, Float64Array.from([1, 0, 1, 2]), 0.1, 'bilinear');
    expect(maxAbsDiff([0, 2, 4, 6].map((i) => both.dB[i]), first.dB)).toBeLessThan(1e-15);
    expect(() => discretizeDense(A, new Float64Array(3), 0.1, 'zoh')).toThrow(/B must have N·M entries/);
    expect(() => discretizeDense(A, new Float64Array(4), -1, 'zoh')).toThrow(/dt must be a positive/);
  });
});

describe('discretizeDiagonal', () => {
  it('matches the dense discretization of the equivalent real 2×2 rotation blocks (ZOH and bilinear)', () => {
    // a = α + iω acting on z = x + i y is the real block [[α, −ω], [ω, α]] on (x, y).
    const { A, B } = s4dInit('lin', 8);
    const n = A.re.length;
    for (const method of ['zoh', 'bilinear'] as const) {
      const dt = 0.05;
      const diag = discretizeDiagonal(A, B, dt, method);
      for (let k = 0; k < n; k++) {
        const block = Float64Array.from([A.re[k], -A.im[k], A.im[k], A.re[k]]);
        const { dA, dB } = discretizeDense(block, Float64Array.from([B.re[k], B.im[k]]), dt, method);
        expect(Math.abs(dA[0] - diag.dA.re[k]) + Math.abs(dA[2] - diag.dA.im[k])).toBeLessThan(1e-14);
        expect(Math.abs(dB[0] - diag.dB.re[k]) + Math.abs(dB[1] - diag.dB.im[k])).toBeLessThan(1e-14);
      }
    }
  });

  it('ZOH is accurate for tiny dt·A (no cancellation) and has the limit dt·B at A = 0', () => {
    const A = { re: Float64Array.from([-1e-9, 0]), im: Float64Array.from([2e-9, 0]) };
    const B = { re: Float64Array.from([1, 2]), im: Float64Array.from([0, 1]) };
    const { dA, dB } = discretizeDiagonal(A, B, 1e-3, 'zoh');
    // (e^{dt a} − 1)/a = dt (1 + z/2 + z²/6 + …) with z = dt·a = −1e-12 + 2e-12 i.
    // Normwise relative error; exp(z) − 1 evaluated directly would be off by ~1e-4.
    const error = Math.hypot(dB.re[0] - 1e-3 * (1 - 0.5e-12), dB.im[0] - 1e-3 * 1e-12) / 1e-3;
    expect(error).toBeLessThan(1e-15);
    expect(dB.re[1]).toBe(2e-3);
    expect(dB.im[1]).toBe(1e-3);
    expect(dA.re[1]).toBe(1);
  });

  it('bilinear → ZOH as dt → 0 (Ā to third order in dt)', () => {
    const { A, B } = s4dInit('inv', 16);
    const gaps = [4e-4, 2e-4].map((dt) => {
      const z = discretizeDiagonal(A, B, dt, 'zoh');
      const b = discretizeDiagonal(A, B, dt, 'bilinear');
      return Math.max(maxAbsDiff(z.dA.re, b.dA.re), maxAbsDiff(z.dA.im, b.dA.im));
    });
    expect(gaps[0] / gaps[1]).toBeGreaterThan(7.5);
    expect(gaps[0] / gaps[1]).toBeLessThan(8.5);
  });
});
