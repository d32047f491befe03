import { describe, expect, it } from 'vitest';
import { discretizeDense, runDense } from '../src/discretize';
import { hippo } from '../src/hippo';
import { identity, luFactor, luSolve, matvec } from '../src/linalg';

/** Orthonormal Legendre values √(2n+1)·P_n(x), n = 0…N−1, by the three-term recurrence. */
function scaledLegendre(N: number, x: number): Float64Array {
  const out = new Float64Array(N);
  let previous = 1;
  let current = x;
  for (let n = 0; n < N; n++) {
    let value: number;
    if (n === 0) value = 1;
    else if (n === 1) value = x;
    else {
      value = ((2 * n - 1) * x * current - (n - 1) * previous) / n;
      previous = current;
      current = value;
    }
    out[n] = Math.sqrt(2 * n + 1) * value;
  }
  return out;
}

function reconstruct(coefficients: Float64Array, x: number): number {
  const basis = scaledLegendre(coefficients.length, x);
  let sum = 0;
  for (let n = 0; n < basis.length; n++) sum += coefficients[n] * basis[n];
  return sum;
}

const signal = (t: number) => Math.sin(2 * t) + 0.5 * Math.cos(5 * t + 1) + 0.3 * t;

describe('HiPPO online approximation', () => {
  it('LegT (window 2 after the halving): the state after a bilinear run reconstructs the last 2 time units', () => {
    const N = 32;
    const dt = 1e-3;
    const steps = 6000;
    const { A, B } = hippo('legt', N);
    const system = discretizeDense(A, B, dt, 'bilinear');
    // Bilinear discretization integrates the input at the midpoint of each step.
    const u = Array.from({ length: steps }, (_, k) => signal((k + 0.5) * dt));
    const states = runDense(system, u);
    const t = steps * dt;
    const c = states.subarray((steps - 1) * N);
    let worst = 0;
    for (let s = 0; s <= 100; s++) {
      const x = t - 2 + (2 * s) / 100; // x ∈ [t − 2, t]
      worst = Math.max(worst, Math.abs(reconstruct(c, x - t + 1) - signal(x)));
    }
    expect(worst).toBeLessThan(1e-4);
  });

  it('LegS: the time-varying ODE c\' = (A c + B f)/t, stepped by the bilinear rule, reconstructs f on all of [0, t]', () => {
    const N = 32;
    const dt = 1e-3;
    const steps = 5000;
    const { A, B } = hippo('legs', N);
    let c: Float64Array = new Float64Array(N);
    c[0] = signal(0); // the projection of f on [0, dt] ≈ the constant f(0)
    for (let k = 1; k < steps; k++) {
      const tMid = (k + 0.5) * dt;
      const h = dt / tMid;
      const left = identity(N);
      const right = identity(N);
      for (let j = 0; j < N * N; j++) {
        left[j] -= (h / 2) * A[j];
        right[j] += (h / 2) * A[j];
      }
      const rhs = matvec(right, c, N);
      const f = signal(tMid);
      for (let i = 0; i < N; i++) rhs[i] += h * B[i] * f;
      c = luSolve(luFactor(left, N), rhs, 1);
    }
    const t = steps * dt;
    let worst = 0;
    for (let s = 0; s <= 100; s++) {
      const x = (t * s) / 100;
      worst = Math.max(worst, Math.abs(reconstruct(c, (2 * x) / t - 1) - signal(x)));
    }
    expect(worst).toBeLessThan(1e-4);
  });
});
