/** Properties of the scan that hold on every backend, checked on random inputs. */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  DTypeError,
  ShapeError,
  ValueError,
  add,
  checkGradients,
  computeGradients,
  dispose,
  keep,
  memory,
  mul,
  noGrad,
  setBackend,
  sum,
  tensor,
  zeros,
  type Tensor,
} from '@ssmjs/core';
import { selectiveScan, selectiveStateUpdate } from '@ssmjs/selective-scan';
import { checkpointSpacing } from '../src/scan';
import { maxRelativeError, randomScanInputs } from './helpers';
import { testedBackends, useBackend } from './backends';
import { setScanTiling } from '../src/kernels/webgpu';

/** Time steps [start, end) of a (…, L) tensor, as a new tensor (read asynchronously: webgpu has no sync reads). */
async function sliceTime(t: Tensor, start: number, end: number): Promise<Tensor> {
  const L = t.shape[t.rank - 1];
  const rows = t.size / L;
  const values = (await t.data()) as Float32Array;
  const out = new Float32Array(rows * (end - start));
  for (let r = 0; r < rows; r++) out.set(values.subarray(r * L + start, r * L + end), r * (end - start));
  return tensor(out, [...t.shape.slice(0, -1), end - start]);
}

/** Time step t of a (…, L) tensor, without the L axis: one decoding step's input. */
async function stepInput(t: Tensor, step: number): Promise<Tensor> {
  const slice = await sliceTime(t, step, step + 1);
  const out = tensor(await slice.data(), t.shape.slice(0, -1));
  slice.dispose();
  return out;
}

describe.each(testedBackends())('selectiveScan on %s', (backend, tolerance) => {
  beforeAll(async () => {
    await useBackend(backend);
  });
  // Tests that pick kernels put the defaults back even when they fail.
  afterEach(() => setScanTiling());

  // On webgpu both ways of binding the step's small inputs: their own buffers, or packed into one.
  const stepBindings = backend.startsWith('webgpu') ? ([true, false] as const) : ([true] as const);
  it.each(stepBindings)('selectiveStateUpdate applied L times equals the scan (direct bindings: %s)', async (stepDirect) => {
    setScanTiling({ stepDirect });
    const [batch, dim, N, L] = [2, 5, 4, 9];
    const x = randomScanInputs(batch, dim, N, L, 3);
    const full = selectiveScan({ ...x, deltaSoftplus: true, returnLastState: true });
    const state = tensor(await x.initialState.data(), x.initialState.shape);
    const stepped: Float32Array[] = [];
    for (let t = 0; t < L; t++) {
      const at = (v: Tensor) => stepInput(v, t);
      const args = { x: await at(x.u), dt: await at(x.delta), B: await at(x.B), C: await at(x.C), z: await at(x.z) };
      const out = selectiveStateUpdate({ state, ...args, A: x.A, D: x.D, dtBias: x.deltaBias, dtSoftplus: true });
      stepped.push((await out.data()) as Float32Array);
      dispose([out, args]);
    }
    // stepped[t][b*dim + d] is y[b, d, t].
    const y = await full.y.data();
    const fromSteps = new Float32Array(y.length);
    for (let t = 0; t < L; t++) for (let i = 0; i < batch * dim; i++) fromSteps[i * L + t] = stepped[t][i];
    expect(maxRelativeError(fromSteps, y)).toBeLessThan(tolerance);
    expect(maxRelativeError(await state.data(), await full.lastState!.data())).toBeLessThan(tolerance);
    dispose([x, full, state]);
  });

  it('scanning in two pieces through initialState/lastState equals one scan', async () => {
    const [batch, dim, N, L, cut] = [2, 3, 8, 23, 10];
    const x = randomScanInputs(batch, dim, N, L, 4);
    const whole = selectiveScan({ ...x, deltaSoftplus: true, returnLastState: true, chunkSize: 4 });
    const piece = async (start: number, end: number, initialState: Tensor) => {
      const cut = (t: Tensor) => sliceTime(t, start, end);
      const args = { u: await cut(x.u), delta: await cut(x.delta), B: await cut(x.B), C: await cut(x.C), z: await cut(x.z) };
      const out = selectiveScan({ ...args, A: x.A, D: x.D, deltaBias: x.deltaBias, initialState, deltaSoftplus: true, returnLastState: true, chunkSize: 4 });
      dispose(args);
      return out;
    };
    const first = await piece(0, cut, x.initialState);
    const second = await piece(cut, L, first.lastState!);
    const yWhole = await whole.y.data();
    const y1 = await sliceTime(whole.y, 0, cut);
    const y2 = await sliceTime(whole.y, cut, L);
    expect(maxRelativeError(await first.y.data(), await y1.data())).toBeLessThan(tolerance);
    expect(maxRelativeError(await second.y.data(), await y2.data())).toBeLessThan(tolerance);
    expect(maxRelativeError(await second.lastState!.data(), await whole.lastState!.data())).toBeLessThan(tolerance);
    expect(yWhole.length).toBe(batch * dim * L);
    dispose([x, whole, first, second, y1, y2]);
  });

  it('keeps checkpoints at chunkSize only where the gradient is recorded', () => {
    const x = randomScanInputs(1, 2, 3, 70, 9);
    const inputs = [x.u, x.delta, x.A, x.B, x.C];
    const seen: number[] = [];
    seen.push(checkpointSpacing(inputs, 5, 70));
    const { value, grads } = computeGradients(() => {
      seen.push(checkpointSpacing(inputs, 5, 70), noGrad(() => checkpointSpacing(inputs, 5, 70)));
      return sum(x.u);
    }, [x.u]);
    // 128: one checkpoint (70 steps rounded up to the kernels' largest tile).
    expect(seen).toEqual([128, 5, 128]);
    dispose([x, value, grads]);
  });

  it('the forward without gradients recorded gives what the recorded one gives', async () => {
    for (const L of [1, 70]) {
      const x = randomScanInputs(2, 3, 5, L, 8);
      const scan = () => {
        const { y, lastState } = selectiveScan({ ...x, deltaSoftplus: true, returnLastState: true });
        return { y: keep(y), lastState: keep(lastState!) };
      };
      const free = scan();
      let recorded: { y: Tensor; lastState?: Tensor } | undefined;
      let paused: { y: Tensor; lastState?: Tensor } | undefined;
      // (kept: computeGradients frees what was made inside it but its value and gradients)
      const { value, grads } = computeGradients(() => {
        paused = noGrad(scan);
        recorded = scan();
        return sum(recorded.y);
      }, [x.u]);
      for (const other of [free, paused!]) {
        expect(maxRelativeError(await other.y.data(), await recorded!.y.data())).toBeLessThan(tolerance);
        expect(maxRelativeError(await other.lastState!.data(), await recorded!.lastState!.data())).toBeLessThan(tolerance);
      }
      dispose([x, free, paused!, recorded!, value, grads]);
    }
  });

  it('gradients do not depend on the chunk size (L=1, L=13 with chunks of 1, 5, 64)', async () => {
    for (const L of [1, 13]) {
      const x = randomScanInputs(1, 3, 5, L, 5);
      const sources = [x.u, x.delta, x.A, x.B, x.C, x.D, x.z, x.deltaBias, x.initialState];
      const gradsFor = (chunkSize: number) =>
        computeGradients(() => {
          const { y, lastState } = selectiveScan({ ...x, deltaSoftplus: true, returnLastState: true, chunkSize });
          return add(sum(mul(y, y)), sum(lastState!));
        }, sources);
      const reference = gradsFor(64);
      for (const chunkSize of [1, 5]) {
        const other = gradsFor(chunkSize);
        for (let i = 0; i < sources.length; i++) {
          expect(maxRelativeError(await other.grads[i].data(), await reference.grads[i].data()), `input ${i}`).toBeLessThan(tolerance);
        }
        dispose(other);
      }
      dispose([reference, x]);
    }
  });

  it('passes a finite-difference gradient check', async () => {
    const x = randomScanInputs(1, 2, 3, 6, 6);
    const f = (u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor, D: Tensor, z: Tensor, deltaBias: Tensor, initialState: Tensor) => {
      const { y, lastState } = selectiveScan({ u, delta, A, B, C, D, z, deltaBias, initialState, deltaSoftplus: true, returnLastState: true, chunkSize: 4 });
      return add(sum(mul(y, y)), sum(mul(lastState!, lastState!)));
    };
    const result = await checkGradients(f as (...xs: Tensor[]) => Tensor, [x.u, x.delta, x.A, x.B, x.C, x.D, x.z, x.deltaBias, x.initialState], { samples: 8 });
    expect(result.failures).toEqual([]);
    dispose(x);
  });

  // On webgpu also through the channel-parallel kernels (the default takes them only for large shapes), and
  // the staged backward (L a multiple of 4, blocks small enough for SwiftShader; its checkpoints come from
  // one more forward at chunk size 3).
  const families = backend.startsWith('webgpu') ? (['auto', 'channels', 'staged'] as const) : (['auto'] as const);
  it.each(families)('leaks no tensors or bytes over a training-style loop (%s kernels)', async (kernels) => {
    setScanTiling(kernels === 'staged' ? { kernels: 'channels', channelBlock: 4 } : { kernels });
    const x = randomScanInputs(1, 4, 4, kernels === 'staged' ? 12 : 10, 7);
    const sources = [x.u, x.delta, x.A, x.B, x.C];
    const steps = { x: await stepInput(x.u, 0), dt: await stepInput(x.delta, 0), B: await stepInput(x.B, 0), C: await stepInput(x.C, 0) };
    const run = () => {
      const { value, grads } = computeGradients(() => sum(selectiveScan({ ...x, deltaSoftplus: true, chunkSize: 3 }).y), sources);
      dispose([value, grads]);
      const plain = selectiveScan({ ...x, returnLastState: true });
      dispose(plain);
      const state = zeros([1, 4, 4]);
      selectiveStateUpdate({ state, ...steps, A: x.A }).dispose();
      state.dispose();
    };
    run();
    const before = memory();
    for (let i = 0; i < 5; i++) run();
    const after = memory();
    expect(after.liveTensors).toBe(before.liveTensors);
    expect(after.backends[backend]).toEqual(before.backends[backend]);
    dispose([x, steps]);
  });
});

describe('argument checks', () => {
  beforeAll(async () => {
    await setBackend('cpu');
  });
  const x = randomScanInputs(2, 3, 4, 5, 8);
  const expectError = (fn: () => unknown, type: new (...a: never[]) => Error, pattern: RegExp) => {
    expect(fn).toThrow(type);
    expect(fn).toThrow(pattern);
  };

  it('names the argument whose shape does not fit', () => {
    expectError(() => selectiveScan({ ...x, B: x.u }), ShapeError, /B must have shape/);
    expectError(() => selectiveScan({ ...x, delta: x.B }), ShapeError, /delta must have shape/);
    expectError(() => selectiveScan({ ...x, D: x.A }), ShapeError, /D must have rank 1/);
    expectError(() => selectiveScan({ ...x, initialState: x.A }), ShapeError, /initialState must have rank 3/);
    const wrongA = zeros([4, 4]);
    expectError(() => selectiveScan({ ...x, A: wrongA }), ShapeError, /A must have shape \(dim=3, N\)/);
    wrongA.dispose();
  });

  it('rejects int32 tensors', () => {
    const ints = tensor(new Int32Array(2 * 3 * 5), [2, 3, 5], 'int32');
    expectError(() => selectiveScan({ ...x, u: ints }), DTypeError, /u must be float32, got int32/);
    ints.dispose();
  });

  it('rejects N = 0 and dim = 0', () => {
    const noStates = zeros([3, 0]);
    expectError(() => selectiveScan({ ...x, A: noStates }), ShapeError, /N \(from A\) must be at least 1/);
    const noChannels = { u: zeros([2, 0, 5]), delta: zeros([2, 0, 5]), A: zeros([0, 4]) };
    expectError(() => selectiveScan({ ...x, ...noChannels, D: undefined, z: undefined, deltaBias: undefined, initialState: undefined }), ShapeError, /dim \(from u and A\) must be at least 1/);
    const emptyState = zeros([1, 0, 4]);
    expectError(() => selectiveStateUpdate({ state: emptyState, x: x.D, dt: x.D, A: x.A, B: x.A, C: x.A }), ShapeError, /dim \(from state\) must be at least 1/);
    dispose([noStates, noChannels, emptyState]);
  });

  it('rejects non-finite values in A, naming where', () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      const values = x.A.dataSync().slice();
      values[6] = bad;
      const A = tensor(values, x.A.shape);
      expectError(() => selectiveScan({ ...x, A }), ValueError, new RegExp(`A must be finite, got ${bad} at \\[1, 2\\]`));
      A.dispose();
    }
  });

  it('rejects a bad chunk size', () => {
    expectError(() => selectiveScan({ ...x, chunkSize: 0 }), ValueError, /chunkSize must be a positive integer/);
  });
});
