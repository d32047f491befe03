import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as core from '@ssmjs/core';
import {
  computeGradients, dispose, engineInternals, memory, mul, randn, setBackend, setWasmThreads, sum, tensor, tidy,
  type Tensor, type WasmBackend, WasmAllocator, WasmBackendClass, withSharedFlag, hasDataSegments,
} from './wasm-helpers';

type Inputs = () => Tensor[];
interface OpCase {
  name: string;
  /** Makes the inputs (seeded, so both backends see the same values). */
  inputs: Inputs;
  run: (...xs: Tensor[]) => Tensor;
  /** Which inputs get gradients (default: every float32 input); empty for no gradient check. */
  grad?: number[];
  tol?: number;
}

let seed = 1;
const rn = (shape: number[], scale = 1) => {
  const s = seed++;
  return () => randn(shape, { seed: s, std: scale });
};
const pos = (shape: number[]) => {
  const s = seed++;
  return () => core.rand(shape, { seed: s, low: 0.2, high: 2 });
};
const ints = (values: number[], shape = [values.length]) => () => tensor(Int32Array.from(values), shape, 'int32');
const make = (...fs: (() => Tensor)[]): Inputs => () => fs.map((f) => f());

const unaryNames = ['neg', 'exp', 'tanh', 'sigmoid', 'silu', 'softplus', 'abs', 'square', 'sign', 'erf'] as const;
const cases: OpCase[] = [
  ...unaryNames.map((name) => ({ name, inputs: make(rn([3, 37], 3)), run: (x: Tensor) => (core as never as Record<string, (x: Tensor) => Tensor>)[name](x) })),
  { name: 'exp (large range)', inputs: make(rn([1000], 40)), run: core.exp, tol: 2e-5 },
  { name: 'softplus (both branches)', inputs: make(rn([257], 30)), run: core.softplus },
  { name: 'tanh (near 0)', inputs: make(rn([64], 1e-3)), run: core.tanh },
  { name: 'log', inputs: make(pos([5, 19])), run: core.log },
  { name: 'sqrt', inputs: make(pos([5, 19])), run: core.sqrt },
  { name: 'rsqrt', inputs: make(pos([5, 19])), run: core.rsqrt },
  { name: 'gelu', inputs: make(rn([41], 2)), run: (x) => core.gelu(x) },
  { name: 'gelu tanh', inputs: make(rn([41], 2)), run: (x) => core.gelu(x, { approximate: 'tanh' }) },
  { name: 'add same shape', inputs: make(rn([7, 13]), rn([7, 13])), run: core.add },
  { name: 'sub row broadcast', inputs: make(rn([6, 5, 11]), rn([11])), run: core.sub },
  { name: 'mul column broadcast', inputs: make(rn([6, 11]), rn([6, 1])), run: core.mul },
  { name: 'div outer broadcast', inputs: make(rn([3, 1, 5]), pos([4, 1])), run: core.div },
  { name: 'add scalar', inputs: make(rn([2, 3, 9]), rn([])), run: core.add },
  { name: 'mul scalar first', inputs: make(rn([1]), rn([4, 1, 7])), run: core.mul },
  { name: 'maximum', inputs: make(rn([9, 1, 6]), rn([4, 1])), run: core.maximum },
  { name: 'minimum', inputs: make(rn([10]), rn([3, 10])), run: core.minimum },
  { name: 'pow', inputs: make(pos([3, 7]), rn([7])), run: core.pow },
  { name: 'sum last axis', inputs: make(rn([5, 33])), run: (x) => core.sum(x, -1) },
  { name: 'sum first axis', inputs: make(rn([17, 6])), run: (x) => core.sum(x, 0) },
  { name: 'sum middle axes keepDims', inputs: make(rn([3, 4, 5, 6])), run: (x) => core.sum(x, [1, 2], { keepDims: true }) },
  { name: 'sum all', inputs: make(rn([13, 3])), run: (x) => core.sum(x) },
  { name: 'sum axes 0 and 2', inputs: make(rn([3, 4, 5])), run: (x) => core.sum(x, [0, 2]) },
  { name: 'max axes 0 and 2 keepDims', inputs: make(rn([3, 4, 5])), run: (x) => core.max(x, [0, 2], { keepDims: true }) },
  { name: 'logsumexp axes 1 and 3', inputs: make(rn([2, 3, 4, 5], 5)), run: (x) => core.logsumexp(x, [1, 3]) },
  { name: 'mean over no axes', inputs: make(rn([3, 4])), run: (x) => core.mean(x, []) },
  { name: 'sign (with zeros)', inputs: make(() => tensor([-2, -0, 0, 3, 1e-30, -1e-30, 7, -7, 0.5])), run: core.sign, grad: [] },
  { name: 'mean', inputs: make(rn([4, 9, 2])), run: (x) => core.mean(x, [1]) },
  { name: 'max last axis', inputs: make(rn([6, 23])), run: (x) => core.max(x, -1) },
  { name: 'max first axis', inputs: make(rn([23, 6])), run: (x) => core.max(x, 0) },
  { name: 'logsumexp last', inputs: make(rn([6, 17], 10)), run: (x) => core.logsumexp(x, -1) },
  { name: 'logsumexp first', inputs: make(rn([17, 6], 10)), run: (x) => core.logsumexp(x, 0) },
  { name: 'argmax', inputs: make(rn([5, 8])), run: (x) => core.argmax(x, 1), grad: [] },
  { name: 'matmul', inputs: make(rn([37, 53]), rn([53, 29])), run: (a, b) => core.matmul(a, b) },
  { name: 'matmul M=1', inputs: make(rn([1, 70]), rn([70, 9])), run: (a, b) => core.matmul(a, b) },
  { name: 'matmul M=1 wide (column bands on threads)', inputs: make(rn([1, 300]), rn([7001, 300])), run: (a, b) => core.matmul(a, b, { transposeB: true }), tol: 1e-4 },
  { name: 'matmul M=3 transposeB', inputs: make(rn([3, 70]), rn([9, 70])), run: (a, b) => core.matmul(a, b, { transposeB: true }) },
  { name: 'matmul transposeA', inputs: make(rn([21, 10]), rn([21, 12])), run: (a, b) => core.matmul(a, b, { transposeA: true }) },
  { name: 'matmul both transposed', inputs: make(rn([300, 7]), rn([5, 300])), run: (a, b) => core.matmul(a, b, { transposeA: true, transposeB: true }) },
  { name: 'matmul batched broadcast', inputs: make(rn([2, 1, 9, 6]), rn([3, 6, 10])), run: (a, b) => core.matmul(a, b) },
  { name: 'matmul batch × shared B (rows stacked)', inputs: make(rn([3, 5, 7]), rn([7, 4])), run: (a, b) => core.matmul(a, b) },
  { name: 'matmul batch × shared Bᵀ, B with size-1 batch', inputs: make(rn([2, 3, 6, 8]), rn([1, 5, 8])), run: (a, b) => core.matmul(a, b, { transposeB: true }) },
  { name: 'matmul batch of single rows × shared B', inputs: make(rn([6, 1, 9]), rn([9, 11])), run: (a, b) => core.matmul(a, b) },
  { name: 'matmul transposed batch × shared B', inputs: make(rn([2, 7, 5]), rn([7, 6])), run: (a, b) => core.matmul(a, b, { transposeA: true }) },
  { name: 'matmul big K (blocked)', inputs: make(rn([70, 600]), rn([600, 40])), run: (a, b) => core.matmul(a, b), tol: 1e-4 },
  { name: 'transpose', inputs: make(rn([3, 4, 5])), run: (x) => core.transpose(x, [2, 0, 1]) },
  { name: 'transpose 2d', inputs: make(rn([7, 9])), run: (x) => core.transpose(x) },
  { name: 'slice', inputs: make(rn([5, 6, 7])), run: (x) => core.slice(x, [1, 0, 2], [3, -1, 4]) },
  { name: 'concat', inputs: make(rn([2, 3, 4]), rn([2, 1, 4]), rn([2, 5, 4])), run: (a, b, c) => core.concat([a, b, c], 1) },
  // The pieces weighted differently, so that each piece's gradient lands in its own place.
  { name: 'split', inputs: make(rn([2, 9, 4])), run: (x) => core.concat(core.split(x, [2, 0, 6, 1], 1).map((piece, k) => core.mul(piece, k + 1)), 1) },
  { name: 'split last axis', inputs: make(rn([3, 13])), run: (x) => core.concat(core.split(x, [5, 8], -1).map((piece, k) => core.mul(piece, k + 2)), 1) },
  { name: 'stack', inputs: make(rn([3, 4]), rn([3, 4])), run: (a, b) => core.stack([a, b], 1) },
  { name: 'pad', inputs: make(rn([3, 4])), run: (x) => core.pad(x, [[1, 2], [0, 3]], 0.5) },
  { name: 'broadcastTo', inputs: make(rn([3, 1, 4])), run: (x) => core.broadcastTo(x, [2, 3, 5, 4]) },
  { name: 'gather axis 0 (embedding)', inputs: make(rn([11, 6]), ints([3, 0, 10, 3, 7, 1], [2, 3])), run: (t, i) => core.gather(t, i, 0), grad: [0] },
  { name: 'gather axis 1', inputs: make(rn([4, 7, 3]), ints([6, 2])), run: (t, i) => core.gather(t, i, 1), grad: [0] },
  { name: 'gather long rows', inputs: make(rn([9, 40]), ints([8, 0, 3, 3])), run: (t, i) => core.gather(t, i, 0), grad: [0] },
  { name: 'slice long rows', inputs: make(rn([4, 50])), run: (x) => core.slice(x, [1, 3], [2, 37]) },
  { name: 'concat long rows', inputs: make(rn([3, 20]), rn([3, 33])), run: (a, b) => core.concat([a, b], 1) },
  { name: 'scatterAdd (repeated indices)', inputs: make(rn([2, 5, 6]), ints([4, 0, 4, 2, 1])), run: (u, i) => core.scatterAdd(u, i, [2, 6, 6], 1), grad: [0] },
  { name: 'where', inputs: make(ints([1, 0, 0, 1, 1], [5, 1]), rn([5, 3]), rn([3])), run: (c, a, b) => core.where(c, a, b), grad: [1, 2] },
  { name: 'cast to int32', inputs: make(rn([5, 7], 20)), run: (x) => core.cast(x, 'int32'), grad: [] },
  { name: 'cast to float32', inputs: make(ints([3, -2, 7, 0, 1], [5])), run: (x) => core.cast(x, 'float32'), grad: [] },
  { name: 'oneHot', inputs: make(ints([2, 0, 4, 9])), run: (x) => core.oneHot(x, 5), grad: [] },
  { name: 'softmax', inputs: make(rn([5, 27], 4)), run: (x) => core.softmax(x) },
  { name: 'softmax axis 0', inputs: make(rn([6, 5])), run: (x) => core.softmax(x, 0) },
  { name: 'logSoftmax', inputs: make(rn([5, 27], 4)), run: (x) => core.logSoftmax(x) },
  { name: 'crossEntropy', inputs: make(rn([7, 13], 3), ints([1, 12, -100, 0, 5, 5, 2])), run: (l, t) => core.crossEntropy(l, t), grad: [0] },
  { name: 'rmsNorm', inputs: make(rn([2, 5, 19]), rn([19])), run: (x, w) => core.rmsNorm(x, w) },
  { name: 'conv1d', inputs: make(rn([2, 5, 23]), rn([5, 4]), rn([5])), run: (x, w, b) => core.conv1d(x, w, b) },
  { name: 'conv1d no bias, L < K', inputs: make(rn([1, 3, 2]), rn([3, 4])), run: (x, w) => core.conv1d(x, w) },
  { name: 'rfft', inputs: make(rn([3, 16])), run: (x) => core.rfft(x) },
  { name: 'irfft', inputs: make(rn([2, 9, 2])), run: (x) => core.irfft(x, 16) },
];

/** Values of a tensor as numbers. */
const values = (t: Tensor) => Array.from(t.dataSync());

/** Output and gradients of sum(op(...) · w) for one case on the current backend. */
function evaluate(c: OpCase): { out: number[]; shape: readonly number[]; dtype: string; grads: number[][] } {
  return tidy(() => {
    const xs = c.inputs();
    const out = c.run(...xs);
    const result = { out: values(out), shape: out.shape, dtype: out.dtype, grads: [] as number[][] };
    const which = c.grad ?? xs.map((x, i) => (x.dtype === 'float32' ? i : -1)).filter((i) => i >= 0);
    if (which.length > 0 && out.dtype === 'float32') {
      const w = randn(out.shape, { seed: 999 });
      const { grads } = computeGradients(() => sum(mul(c.run(...xs), w)), which.map((i) => xs[i]));
      result.grads = grads.map(values);
    }
    return result;
  });
}

function expectClose(got: number[], want: number[], tol: number, what: string): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const a = got[i];
    const b = want[i];
    if (Number.isNaN(b)) {
      expect(a, `${what}[${i}]`).toBeNaN();
      continue;
    }
    if (!Number.isFinite(b)) {
      expect(a, `${what}[${i}]`).toBe(b);
      continue;
    }
    const err = Math.abs(a - b);
    if (err > tol * (1 + Math.abs(b))) expect.fail(`${what}[${i}]: wasm ${a} vs cpu ${b} (error ${err})`);
  }
}

async function compareOnBackends(c: OpCase) {
  await setBackend('cpu');
  const want = evaluate(c);
  await setBackend('wasm');
  const got = evaluate(c);
  expect(got.shape).toEqual(want.shape);
  expect(got.dtype).toBe(want.dtype);
  const tol = c.tol ?? 2e-5;
  expectClose(got.out, want.out, tol, `${c.name} output`);
  expect(got.grads.length).toBe(want.grads.length);
  got.grads.forEach((g, i) => expectClose(g, want.grads[i], tol * 5, `${c.name} gradient ${i}`));
}

describe('wasm backend vs cpu', () => {
  beforeAll(async () => {
    await setBackend('wasm');
  });
  afterAll(async () => {
    await setBackend('cpu');
  });

  it('starts with SIMD kernels in one shared memory', async () => {
    const be = engineInternals.findBackend('wasm') as WasmBackend;
    expect(be.name).toBe('wasm');
    expect(be.wasmMemory).toBeInstanceOf(WebAssembly.Memory);
    expect(be.shared).toBe(true);
    // The relaxed-SIMD build wherever the engine validates it (Node 20: --experimental-wasm-relaxed-simd).
    const relaxed = new Uint8Array(await (await import('node:fs/promises')).readFile(new URL('../wasm/core-relaxed.wasm', import.meta.url)));
    expect(be.variant).toBe(WebAssembly.validate(relaxed) ? 'relaxed' : 'simd');
  });

  for (const threads of [1, 2]) {
    describe(`${threads} thread${threads > 1 ? 's' : ''}`, () => {
      beforeAll(async () => {
        await setWasmThreads(threads);
      });
      for (const c of cases) it(c.name, () => compareOnBackends(c));
    });
  }

  it('runs every kernel of the op contract (own kernel or cpu fallback)', async () => {
    await setBackend('wasm');
    const be = engineInternals.findBackend('wasm') as WasmBackend;
    const contract = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'neg', 'exp', 'log', 'sqrt', 'rsqrt', 'abs', 'tanh',
      'sigmoid', 'silu', 'square', 'softplus', 'gelu', 'cast', 'where', 'broadcastTo', 'sum', 'mean', 'max', 'logsumexp', 'argmax',
      'matmul', 'transpose', 'slice', 'split', 'concat', 'pad', 'gather', 'softmax', 'logSoftmax', 'crossEntropy', 'conv1d', 'rmsNorm', 'rfft', 'irfft'];
    for (const name of contract) {
      expect(engineInternals.hasKernel(name, 'wasm') || be.fallbackKernel(name) !== undefined, name).toBe(true);
    }
  });
});

describe('wasm fast exp', () => {
  it('has relative error ≤ 4e-6 over the normal range, and exact special values', async () => {
    await setBackend('wasm');
    const n = 100_000;
    const xs = Float32Array.from({ length: n }, (_, i) => -87 + (i * 175) / n);
    const got = tidy(() => core.exp(tensor(xs)).dataSync());
    let worst = 0;
    for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(got[i] - Math.exp(xs[i])) / Math.exp(xs[i]));
    expect(worst).toBeLessThan(4e-6);
    const special = tidy(() => Array.from(core.exp(tensor([Number.NaN, Infinity, -Infinity, 0, 100, -100, 1])).dataSync()));
    expect(special.slice(0, 6)).toEqual([Number.NaN, Infinity, 0, 1, Infinity, 0]);
    expect(special[6]).toBeCloseTo(Math.E, 6);
  });
});

describe('wasm memory', () => {
  it('frees everything it allocates across forward and backward passes', async () => {
    await setBackend('wasm');
    const be = engineInternals.findBackend('wasm') as WasmBackend;
    const before = memory();
    const beforeStats = be.allocatorStats();
    for (let i = 0; i < 3; i++) for (const c of cases.slice(0, 40)) evaluate(c);
    expect(memory()).toEqual(before);
    // Freed blocks coalesce back into the top: nothing is left fragmented.
    expect(be.allocatorStats().top).toBeLessThanOrEqual(beforeStats.top);
    expect(be.memory().bytes).toBe(before.backends.wasm.bytes);
  });

  it('counts bytes and buffers of live tensors and reads back what was written', async () => {
    await setBackend('wasm');
    const be = engineInternals.findBackend('wasm') as WasmBackend;
    const before = be.memory();
    const t = tensor([[1, 2, 3], [4, 5, 6]]);
    const ids = tensor(Int32Array.from([7, -8, 9]), [3], 'int32');
    expect(be.memory()).toEqual({ bytes: before.bytes + 36, buffers: before.buffers + 2 });
    expect(Array.from(t.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(await ids.data())).toEqual([7, -8, 9]);
    expect(be.ptr(t) % 16).toBe(0);
    dispose([t, ids]);
    expect(be.memory()).toEqual(before);
  });

  it('grows the memory for big tensors and keeps earlier data intact', async () => {
    await setBackend('wasm');
    const be = engineInternals.findBackend('wasm') as WasmBackend;
    const small = tensor([1, 2, 3]);
    const capacity = be.wasmMemory.buffer.byteLength;
    const big = core.zeros([capacity / 4 + 1000]);
    expect(be.wasmMemory.buffer.byteLength).toBeGreaterThan(capacity);
    expect(Array.from(small.dataSync())).toEqual([1, 2, 3]);
    const total = core.sum(core.add(big, 1)).dataSync()[0];
    expect(total).toBe(capacity / 4 + 1000);
    dispose([small, big]);
  });

  it('reuses freed blocks', async () => {
    await setBackend('wasm');
    const be = engineInternals.findBackend('wasm') as WasmBackend;
    const a = randn([100]);
    const ptr = be.ptr(a);
    const keepAbove = randn([10]);
    a.dispose();
    const b = randn([50]);
    expect(be.ptr(b)).toBe(ptr);
    dispose([b, keepAbove]);
  });

  it('reports bad indices with typed errors and frees the output', async () => {
    await setBackend('wasm');
    const before = memory();
    tidy(() => {
      const table = randn([4, 3]);
      expect(() => core.gather(table, tensor(Int32Array.from([1, 4]), [2], 'int32'))).toThrow(/index 4 at position 1 is out of range \[0, 4\)/);
      expect(() => core.crossEntropy(table, tensor(Int32Array.from([0, 1, 3, 9]), [4], 'int32'))).toThrow(core.ValueError);
    });
    expect(memory()).toEqual(before);
  });
});

describe('threads', () => {
  it('a big matmul and elementwise ops give the same result on 1 and 2 threads', async () => {
    await setBackend('wasm');
    // Sizes above the thresholds where matmul, elementwise ops, softmax, rmsNorm and conv1d split.
    const run = () => tidy(() => {
      const a = randn([301, 257], { seed: 5 });
      const b = randn([257, 520], { seed: 6 });
      const y = core.silu(core.add(core.matmul(a, b), randn([520], { seed: 7 })));
      const z = core.rmsNorm(core.softmax(y), randn([520], { seed: 8 }));
      const c = core.conv1d(core.reshape(z, [7, 43, 520]), randn([43, 4], { seed: 9 }), randn([43], { seed: 10 }));
      return values(c);
    });
    await setWasmThreads(1);
    const one = run();
    await setWasmThreads(2);
    const two = run();
    expect(two).toEqual(one);
  });

  it('loads an extra kernel module into the main thread and the workers', async () => {
    await setBackend('wasm');
    await setWasmThreads(2);
    const be = engineInternals.findBackend('wasm') as WasmBackend;
    const bytes = await (await import('node:fs/promises')).readFile(new URL('../wasm/core-simd.wasm', import.meta.url));
    const mod = await be.loadKernelModule(new Uint8Array(bytes));
    const x = tensor([1, -2, 3, -4, 5, -6, 7, -8, 9]);
    const out = be.output(x.shape);
    // neg (op 0) over two parts: [0, 4) on the main thread, [4, 9) in a worker.
    mod.parallel('unary', 2, (part) => (part === 0 ? [0, be.ptr(x), be.ptr(out), 4] : [0, be.ptr(x) + 16, be.ptr(out) + 16, 5]));
    expect(Array.from(be.view(out))).toEqual([-1, 2, -3, 4, -5, 6, -7, 8, -9]);
    // A trap in a worker's part is a typed error, and the pool keeps working afterwards.
    const outside = be.wasmMemory.buffer.byteLength;
    expect(() => mod.parallel('unary', 2, (part) => (part === 0 ? [0, be.ptr(x), be.ptr(out), 4] : [0, outside, outside, 8]))).toThrow(
      /wasm worker: kernel 'unary' of module \d+ failed: RuntimeError: memory access out of bounds/,
    );
    mod.parallel('unary', 2, (part) => (part === 0 ? [0, be.ptr(out), be.ptr(out), 4] : [0, be.ptr(out) + 16, be.ptr(out) + 16, 5]));
    expect(Array.from(be.view(out))).toEqual([1, -2, 3, -4, 5, -6, 7, -8, 9]);
    be.free(out.dataId);
    x.dispose();
    await setWasmThreads(1);
  });
});

describe('wasm loading', () => {
  const wasmDir = new URL('../wasm/', import.meta.url);
  const readWasm = async (file: string) => new Uint8Array(await (await import('node:fs/promises')).readFile(new URL(file, wasmDir)));

  it('finds the .wasm through the wasmPaths option and honours relaxedSimd: false', async () => {
    const asked: string[] = [];
    const be = await WasmBackendClass.create({
      threads: 1,
      relaxedSimd: false,
      wasmPaths: (file) => {
        asked.push(file);
        return new URL(file, wasmDir);
      },
    });
    expect(asked).toEqual(['core-simd.wasm']);
    expect(be.variant).toBe('simd');
    await be.dispose();
  });

  it('says where it looked when the .wasm is missing', async () => {
    await expect(WasmBackendClass.create({ threads: 1, wasmPaths: '/nonexistent/dir/' })).rejects.toThrow(/could not load core-relaxed\.wasm; tried \/nonexistent\/dir\/core-relaxed\.wasm/);
  });

  it('matches the shared flag of a kernel module to the memory it imports', async () => {
    const bytes = await readWasm('core-simd.wasm');
    const plain = new WebAssembly.Memory({ initial: 2, maximum: 10 });
    await expect(WebAssembly.instantiate(bytes, { env: { memory: plain } })).rejects.toThrow();
    const { instance } = await WebAssembly.instantiate(withSharedFlag(bytes, false), { env: { memory: plain } });
    // fill32 writes through the imported, non-shared memory.
    (instance.exports.fill32 as (dst: number, bits: number, n: number) => void)(1024, 7, 5);
    expect(Array.from(new Int32Array(plain.buffer, 1024, 6))).toEqual([7, 7, 7, 7, 7, 0]);
    expect(withSharedFlag(withSharedFlag(bytes, false), true)).toEqual(bytes);
  });

  it('refuses kernel modules with data segments', async () => {
    await setBackend('wasm');
    const be = engineInternals.findBackend('wasm') as WasmBackend;
    // (module (import "env" "memory" (memory 1 65536 shared)) (data (i32.const 0) "x"))
    const withData = Uint8Array.from([0, 97, 115, 109, 1, 0, 0, 0, 2, 18, 1, 3, 101, 110, 118, 6, 109, 101, 109, 111, 114, 121, 2, 3, 1, 128, 128, 4,
      11, 7, 1, 0, 65, 0, 11, 1, 120]);
    expect(WebAssembly.validate(withData)).toBe(true);
    expect(hasDataSegments(withData)).toBe(true);
    expect(hasDataSegments(await readWasm('core-relaxed.wasm'))).toBe(false);
    await expect(be.loadKernelModule(withData)).rejects.toThrow(/no data segments/);
  });
});

describe('relaxed-SIMD build', () => {
  it('agrees with the plain SIMD build (run in a Node with --experimental-wasm-relaxed-simd)', async () => {
    const { execFileSync } = await import('node:child_process');
    const script = new URL('./relaxed-vs-simd.mjs', import.meta.url).pathname;
    const out = execFileSync(process.execPath, ['--experimental-wasm-relaxed-simd', script], { encoding: 'utf8' });
    const { relaxedValidates, result } = JSON.parse(out) as { relaxedValidates: boolean; result: Record<string, number> };
    expect(relaxedValidates).toBe(true);
    expect(Object.keys(result).length).toBeGreaterThan(5);
    for (const [kernel, error] of Object.entries(result)) expect(error, kernel).toBeLessThan(1e-5);
  });
});

describe('wasm allocator', () => {
  it('never hands out overlapping blocks and returns to empty after random alloc/free', () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 64 });
    const allocator = new WasmAllocator(memory, 64 * 65536);
    const start = allocator.stats();
    const live = new Map<number, number>();
    let state = 12345;
    const random = (n: number) => (state = (state * 1103515245 + 12345) % 2 ** 31) % n;
    for (let step = 0; step < 3000; step++) {
      if (live.size > 0 && random(3) === 0) {
        const keys = [...live.keys()];
        const offset = keys[random(keys.length)];
        allocator.release(offset, live.get(offset)!);
        live.delete(offset);
      } else {
        const bytes = 1 + random(5000);
        const offset = allocator.alloc(bytes);
        const overlapping = [...live].filter(([o, b]) => offset + bytes > o && o + b > offset);
        if (offset % 16 !== 0 || offset + bytes > memory.buffer.byteLength || overlapping.length > 0) {
          expect.fail(`step ${step}: block [${offset}, +${bytes}) is misaligned, outside the memory or overlaps ${JSON.stringify(overlapping)}`);
        }
        live.set(offset, bytes);
      }
    }
    for (const [o, b] of live) allocator.release(o, b);
    expect(allocator.usedBytes).toBe(0);
    expect(allocator.blocks).toBe(0);
    expect(allocator.stats()).toEqual({ ...start, capacity: memory.buffer.byteLength });
    expect(allocator.stats().freeBlocks).toBe(0);
  });

  it('throws a typed error past the maximum', () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 2 });
    const allocator = new WasmAllocator(memory, 2 * 65536);
    expect(() => allocator.alloc(3 * 65536)).toThrow(core.BackendError);
    expect(() => allocator.alloc(3 * 65536)).toThrow(/may not grow beyond 131072 bytes/);
    expect(allocator.usedBytes).toBe(0);
  });
});
