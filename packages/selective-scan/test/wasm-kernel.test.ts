/**
 * The AssemblyScript scan kernels (assembly/scan.ts, built to assembly/build/) run standalone through the
 * lab runner, against the cpu kernel on random shapes and against the float64 fixtures. Both builds
 * (plain SIMD; relaxed-SIMD FMA where this Node validates it), one and two threads.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { dispose, setBackend, tensor, type Tensor } from '@ssmjs/core';
import { selectiveScan } from '@ssmjs/selective-scan';
import { ScanLab, relaxedSimdSupported, type LabInputs, type LabShape } from '../kernels/harness.mjs';
import { loadFixtures, maxRelativeError, randomScanInputs } from './helpers';

// Fast exp (2.3e-7) and softplus in f32, states in f32: 1e-5 of the tensor's scale is f32 round-off
// accumulated over a few hundred steps, far below any real error.
const TOLERANCE = 1e-5;
const variants: ('simd' | 'relaxed')[] = ['simd', ...(relaxedSimdSupported() ? (['relaxed'] as const) : [])];
const labs: ScanLab[] = [];

afterAll(async () => {
  await Promise.all(labs.map((lab) => lab.close()));
});

/** The cpu kernel's y, lastState and checkpoints for the same inputs. */
function cpuForward(shape: Required<LabShape>, x: LabInputs) {
  const { batch, dim, N, L } = shape;
  const t = (v: Float32Array | undefined, s: number[]) => (v ? tensor(v, s) : undefined);
  const args = {
    u: t(x.u, [batch, dim, L])!, delta: t(x.delta, [batch, dim, L])!, A: t(x.A, [dim, N])!, B: t(x.B, [batch, N, L])!, C: t(x.C, [batch, N, L])!,
    D: t(x.D, [dim]), z: t(x.z, [batch, dim, L]), deltaBias: t(x.deltaBias, [dim]), initialState: t(x.initialState, [batch, dim, N]),
  };
  const { y, lastState } = selectiveScan({ ...args, deltaSoftplus: shape.softplus, returnLastState: true, chunkSize: shape.chunk });
  const result = { y: y.dataSync(), lastState: lastState!.dataSync() };
  dispose([args, y, lastState]);
  return result;
}

describe.each(variants.flatMap((v) => [1, 2].map((threads) => [v, threads] as const)))('wasm kernel %s, %i thread(s)', (variant, threads) => {
  const lab = ScanLab.create({ variant, threads, pages: 64 }).then((l) => (labs.push(l), l));

  it.each([
    { batch: 1, dim: 7, N: 16, L: 1, chunk: 64, softplus: true },
    { batch: 2, dim: 5, N: 16, L: 131, chunk: 64, softplus: true },
    { batch: 2, dim: 6, N: 16, L: 70, chunk: 7, softplus: false },
    { batch: 1, dim: 3, N: 5, L: 45, chunk: 8, softplus: true },
    { batch: 3, dim: 1, N: 1, L: 9, chunk: 4, softplus: false },
  ])('matches the cpu kernel: %o', async (shape) => {
    await setBackend('cpu');
    for (const withOptional of [true, false]) {
      const r = randomScanInputs(shape.batch, shape.dim, shape.N, shape.L, shape.L + shape.dim);
      const x: LabInputs = { u: r.u.dataSync() as Float32Array, delta: r.delta.dataSync() as Float32Array, A: r.A.dataSync() as Float32Array, B: r.B.dataSync() as Float32Array, C: r.C.dataSync() as Float32Array };
      if (withOptional) Object.assign(x, { D: r.D.dataSync(), z: r.z.dataSync(), deltaBias: r.deltaBias.dataSync(), initialState: r.initialState.dataSync() });
      dispose(r);
      // Without softplus, delta is used as is: make it a plausible (positive) step, or states blow up.
      if (!shape.softplus) x.delta = x.delta.map((v) => Math.log1p(Math.exp(v)));
      const want = cpuForward(shape, x);
      const l = await lab;
      const got = l.forward(l.setup(shape, x));
      expect(maxRelativeError(got.y, want.y), 'y').toBeLessThan(TOLERANCE);
      expect(maxRelativeError(got.lastState, want.lastState), 'lastState').toBeLessThan(TOLERANCE);
    }
  });

  it('matches the float64 fixtures (y, lastState)', async () => {
    const l = await lab;
    for (const c of loadFixtures().cases) {
      const data = (k: keyof typeof c.inputs) => (c.inputs[k] ? Float32Array.from(c.inputs[k]!.data) : undefined);
      const x = { u: data('u')!, delta: data('delta')!, A: data('A')!, B: data('B')!, C: data('C')!, D: data('D'), z: data('z'), deltaBias: data('deltaBias'), initialState: data('initialState') };
      const got = l.forward(l.setup({ batch: c.batch, dim: c.dim, N: c.dstate, L: c.seqlen, chunk: 5, softplus: c.deltaSoftplus }, x));
      expect(maxRelativeError(got.y, c.outputs.y.data), `${c.name}: y`).toBeLessThan(TOLERANCE);
      expect(maxRelativeError(got.lastState, c.outputs.lastState.data), `${c.name}: lastState`).toBeLessThan(TOLERANCE);
    }
  });
});

describe('wasm backend', () => {
  it('runs the SIMD kernel once loaded (not the cpu fallback), with the same results', async () => {
    const { toBackend } = await import('@ssmjs/core');
    const { loadWasmKernels } = await import('@ssmjs/selective-scan');
    await setBackend('cpu');
    const x = randomScanInputs(1, 6, 16, 40, 9);
    const cpu = selectiveScan({ ...x, deltaSoftplus: true }).y.dataSync();
    // One at a time: concurrent first calls to toBackend start separate wasm backends (a core race).
    const onWasm: Record<string, Tensor> = {};
    for (const [k, v] of Object.entries(x)) onWasm[k] = await toBackend(v, 'wasm');
    const fallback = selectiveScan({ ...(onWasm as unknown as typeof x), deltaSoftplus: true }).y;
    await loadWasmKernels();
    const simd = selectiveScan({ ...(onWasm as unknown as typeof x), deltaSoftplus: true }).y;
    expect(simd.backend.name).toBe('wasm');
    // The fallback is the cpu kernel itself: bit for bit. The SIMD kernel (f32, fast exp) is close, not equal.
    expect(Array.from(fallback.dataSync())).toEqual(Array.from(cpu));
    expect(Array.from(simd.dataSync())).not.toEqual(Array.from(cpu));
    expect(maxRelativeError(simd.dataSync(), cpu)).toBeLessThan(TOLERANCE);
    dispose([x, onWasm, fallback, simd]);
  });

  it('computes gradients on worker threads (partial dB, dC summed) equal to the cpu kernel', async () => {
    const { add, computeGradients, mul, setWasmThreads, sum, toBackend } = await import('@ssmjs/core');
    const { loadWasmKernels } = await import('@ssmjs/selective-scan');
    // Big enough (batch·dim·L·N ≥ 2^16) for the kernels to split channels over threads.
    const [batch, dim, N, L] = [2, 33, 16, 70];
    await setBackend('cpu');
    const x = randomScanInputs(batch, dim, N, L, 10);
    const sources = Object.values(x);
    const run = (args: typeof x) =>
      computeGradients(() => {
        const { y, lastState } = selectiveScan({ ...args, deltaSoftplus: true, returnLastState: true, chunkSize: 16 });
        return add(sum(mul(y, y)), sum(lastState!));
      }, Object.values(args));
    const want = run(x);
    const onWasm: Record<string, Tensor> = {};
    for (const [k, v] of Object.entries(x)) onWasm[k] = await toBackend(v, 'wasm');
    // Current backend too: autograd makes its seed gradient there.
    await setBackend('wasm');
    await loadWasmKernels();
    for (const threads of [1, 2]) {
      await setWasmThreads(threads);
      const got = run(onWasm as unknown as typeof x);
      for (let i = 0; i < sources.length; i++) {
        expect(maxRelativeError(got.grads[i].dataSync(), want.grads[i].dataSync()), `${threads} threads, input ${Object.keys(x)[i]}`).toBeLessThan(TOLERANCE);
      }
      dispose(got);
    }
    dispose([x, onWasm, want]);
  });
});
