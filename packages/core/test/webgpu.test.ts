import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  abs, add, BackendError, computeGradients, concat, conv1d, cos, crossEntropy, div, exp, gather, gelu, irfft, logSoftmax,
  logsumexp, MATMUL_LARGE, MATMUL_LARGE_DEEP, matmul, max, maximum, mean, memory, minimum, mul, pad, pow, randn, registerBackend, rfft,
  rmsNorm, runKernel, setBackend, sigmoid, square, silu, slice, softmax, softplus, sqrt, sub, sum, tanh, tensor, tidy, toBackend,
  transpose, WebGpuBackend, WebGpuData, where, type Tensor,
} from '@ssmjs/core';
import { engine } from '../src/engine';

// WebGPU in Node comes from the `webgpu` package (Dawn); without a GPU it runs on SwiftShader (Debian's chromium).
process.env.VK_ICD_FILENAMES ??= '/usr/lib/chromium/vk_swiftshader_icd.json';

let gpu: WebGpuBackend;

beforeAll(async () => {
  if (!existsSync(process.env.VK_ICD_FILENAMES!)) {
    throw new Error(`WebGPU tests need a Vulkan driver: ${process.env.VK_ICD_FILENAMES} is missing (apt-get install chromium libvulkan1)`);
  }
  gpu = (await engine.startBackend('webgpu')) as WebGpuBackend;
  // The same kernels with the large matmul tiles for every size, and without subgroups (the fallbacks).
  registerBackend('webgpu-large-tiles', () => WebGpuBackend.create({ matmulTiling: MATMUL_LARGE }), -10);
  registerBackend('webgpu-deep-tiles', () => WebGpuBackend.create({ matmulTiling: MATMUL_LARGE_DEEP }), -10);
  registerBackend('webgpu-no-subgroups', () => WebGpuBackend.create({ subgroups: false }), -10);
  await setBackend('cpu');
});

function mismatch(got: ArrayLike<number>, want: ArrayLike<number>, atol: number, rtol: number): string | null {
  if (got.length !== want.length) return `length ${got.length} vs ${want.length}`;
  for (let i = 0; i < want.length; i++) {
    const [g, w] = [got[i], want[i]];
    const ok = Number.isNaN(w) ? Number.isNaN(g) : g === w || Math.abs(g - w) <= atol + rtol * Math.abs(w);
    if (!ok) return `at ${i}: got ${g}, want ${w}`;
  }
  return null;
}

interface Tolerance {
  atol?: number;
  rtol?: number;
  backend?: string;
}

/** Runs a kernel on cpu and on a webgpu backend with the same inputs, and compares every output. */
async function compareKernel(name: string, inputs: Tensor[], attrs: Record<string, unknown> = {}, options: Tolerance = {}): Promise<void> {
  const { atol = 1e-5, rtol = 1e-4, backend = 'webgpu' } = options;
  const want = runKernel(name, inputs, attrs);
  const moved = await moveAll(inputs, backend);
  const got = runKernel(name, moved, attrs);
  const what = `${name} ${JSON.stringify(attrs)} on ${inputs.map((t) => `[${t.shape}]`).join(', ')} (${backend})`;
  for (let k = 0; k < want.length; k++) {
    expect(got[k].shape, what).toEqual(want[k].shape);
    expect(got[k].dtype, what).toBe(want[k].dtype);
    expect(mismatch(await got[k].data(), await want[k].data(), atol, rtol), what).toBeNull();
  }
  for (const t of [...want, ...got, ...moved]) t.dispose();
}

/** Copies to a backend one after another (a backend starts once; concurrent first starts would race). */
async function moveAll(xs: Tensor[], backend: string): Promise<Tensor[]> {
  const out: Tensor[] = [];
  for (const x of xs) out.push(await toBackend(x, backend));
  return out;
}

/** Counts a device's calls of one of its methods until `restore()`. */
function countCalls(device: GPUDevice, method: 'createBindGroup' | 'createBuffer'): { readonly count: number; restore(): void } {
  const original = device[method] as (...args: unknown[]) => unknown;
  let count = 0;
  (device as unknown as Record<string, unknown>)[method] = function (this: GPUDevice, ...args: unknown[]) {
    count++;
    return original.apply(this, args);
  };
  return { get count() { return count; }, restore: () => { (device as unknown as Record<string, unknown>)[method] = original; } };
}

const normal = (shape: number[], seed: number) => randn(shape, { seed });
const positive = (shape: number[], seed: number) => add(abs(randn(shape, { seed })), 0.1);
const ints = (values: number[], shape = [values.length]) => tensor(Int32Array.from(values), shape, 'int32');

describe('webgpu backend: kernels against cpu', () => {
  it('has a kernel for every op the cpu backend has', () => {
    const kernels = (engine as unknown as { kernels: Map<string, Map<string, unknown>> }).kernels;
    const missing = [...kernels].filter(([, per]) => per.has('cpu') && !per.has('webgpu') && !per.has('*')).map(([name]) => name);
    expect(missing).toEqual([]);
  });

  it('unary ops, scalar and four-wide', async () => {
    const ops = ['neg', 'exp', 'abs', 'square', 'sign', 'tanh', 'sigmoid', 'silu', 'softplus', 'erf'];
    for (const shape of [[3, 5, 7], [4, 8], [1], []]) {
      const x = mul(normal(shape, 1), 3);
      for (const op of ops) await compareKernel(op, [x], {}, { atol: 2e-5 });
      // WGSL allows sin/cos an absolute error of 2⁻¹¹ (SwiftShader uses about half of it).
      for (const op of ['sin', 'cos']) await compareKernel(op, [x], {}, { atol: 5e-4 });
      await compareKernel('gelu', [x], { approximate: 'none' }, { atol: 2e-5 });
      await compareKernel('gelu', [x], { approximate: 'tanh' }, { atol: 2e-5 });
      const p = positive(shape, 2);
      for (const op of ['log', 'sqrt', 'rsqrt']) await compareKernel(op, [p]);
    }
    // softplus around its threshold and tanh far out.
    await compareKernel('softplus', [tensor([-30, -5, 0, 19.9, 20, 20.1, 50])]);
    await compareKernel('tanh', [tensor([-100, -20, 0, 20, 100])]);
  });

  it('binary ops with broadcasting', async () => {
    const pairs: [number[], number[]][] = [
      [[2, 3], [2, 3]],
      [[4, 8], [4, 8]],
      [[3, 1, 5], [4, 5]],
      [[7], []],
      [[], [2, 3]],
      [[1], [6, 1]],
      [[2, 1, 3, 1], [1, 5, 1, 4]],
    ];
    for (const [sa, sb] of pairs) {
      for (const op of ['add', 'sub', 'mul', 'maximum', 'minimum']) await compareKernel(op, [normal(sa, 3), normal(sb, 4)]);
      await compareKernel('div', [normal(sa, 3), positive(sb, 4)]);
      await compareKernel('pow', [positive(sa, 3), normal(sb, 4)], {}, { rtol: 1e-4 });
    }
    // Negative bases with integer exponents, and x⁰ = 1.
    await compareKernel('pow', [tensor([-2, -2, -1.5, 0, 0, 3]), tensor([2, 3, 2, 0, 2, 0])]);
  });

  it('where, cast, broadcastTo, oneHot', async () => {
    const cond = ints([1, 0, 1], [3, 1]);
    await compareKernel('where', [cond, normal([1, 4], 5), normal([3, 4], 6)], { shape: [3, 4] });
    await compareKernel('where', [ints([0, 1, 1, 0]), ints([1, 2, 3, 4]), ints([-1], [])], { shape: [4] });
    await compareKernel('cast', [tensor([-2.7, -0.5, 0, 0.5, 2.7, 1e6])], { dtype: 'int32' });
    await compareKernel('cast', [ints([-3, 0, 7, 123456])], { dtype: 'float32' });
    await compareKernel('cast', [normal([5], 7)], { dtype: 'float32' });
    await compareKernel('broadcastTo', [normal([3, 1], 8)], { shape: [2, 3, 5] });
    await compareKernel('broadcastTo', [ints([4, 5, 6], [1, 3])], { shape: [2, 3] });
    await compareKernel('oneHot', [ints([0, 3, 9, -1, 2], [5])], { depth: 4 });
  });

  it('reductions over any axes, both strategies, with and without subgroups', async () => {
    const cases: [number[], number[]][] = [
      [[3, 70, 5], [1]],
      [[3, 70, 5], [0, 2]],
      [[3, 70, 5], [0, 1, 2]],
      [[300], [0]],
      [[2, 1, 3], [1]],
      [[4, 9], [1]],
      [[4, 9], [0]],
      // Few outputs of many elements: chunked, then the partials reduced.
      [[3, 20000], [1]],
      [[160, 2, 130], [0, 2]],
    ];
    for (const backend of ['webgpu', 'webgpu-no-subgroups']) {
      for (const [shape, axes] of cases) {
        const x = normal(shape, 9);
        for (const op of ['sum', 'mean', 'max', 'logsumexp']) {
          for (const keepDims of [false, true]) await compareKernel(op, [x], { axes, keepDims }, { backend, atol: 1e-4 });
        }
      }
    }
    await compareKernel('logsumexp', [tensor([-Infinity, -Infinity, 1, 2], [2, 2])], { axes: [1], keepDims: false });
    await compareKernel('argmax', [normal([5, 9, 3], 10)], { axis: 1 });
    await compareKernel('argmax', [normal([5, 9, 3], 10)], { axis: 2 });
    await compareKernel('argmax', [tensor([1, 3, 3, 2])], { axis: 0 });
    // Long axes (a workgroup per output), ties resolved to the first index.
    await compareKernel('argmax', [normal([3, 1000], 10)], { axis: 1 });
    await compareKernel('argmax', [normal([300, 2], 10)], { axis: 0 });
    const ties = new Float32Array(700).fill(1);
    ties[650] = 2;
    ties[600] = 2;
    await compareKernel('argmax', [tensor(ties)], { axis: 0 });
    await compareKernel('argmax', [tensor(new Float32Array(500).fill(-3))], { axis: 0 });
  });

  it('matmul of a few rows against a transposed matrix (the matrix-vector kernel), with and without subgroups', async () => {
    const cases: [number[], number[], number[]][] = [
      [[1, 48], [130, 48], [1, 130]],
      [[2, 7], [5, 7], [2, 5]],
      [[3, 768], [1, 768], [3, 1]],
      [[4, 20], [67, 20], [4, 67]],
      [[1, 1, 12], [9, 12], [1, 1, 9]],
    ];
    for (const backend of ['webgpu', 'webgpu-no-subgroups']) {
      for (const [a, b, out] of cases) {
        await compareKernel('matmul', [normal(a, 13), normal(b, 14)], { transposeA: false, transposeB: true, outShape: out }, { backend, atol: 1e-4 });
      }
    }
  });

  it('matmul: transposes, batch broadcasting, odd sizes, both tilings', async () => {
    const cases: { a: number[]; b: number[]; out: number[]; tA?: boolean; tB?: boolean }[] = [
      { a: [5, 7], b: [7, 3], out: [5, 3] },
      { a: [1, 1], b: [1, 1], out: [1, 1] },
      { a: [7, 5], b: [7, 3], out: [5, 3], tA: true },
      { a: [5, 7], b: [3, 7], out: [5, 3], tB: true },
      { a: [7, 5], b: [3, 7], out: [5, 3], tA: true, tB: true },
      { a: [2, 1, 5, 7], b: [3, 7, 6], out: [2, 3, 5, 6] },
      { a: [3, 70, 33], b: [33, 130], out: [3, 70, 130] },
      { a: [65, 17], b: [130, 17], out: [65, 130], tB: true },
      { a: [4, 0], b: [0, 3], out: [4, 3] },
      // Whole 64×64×8 tiles: the aligned (vec4, unchecked) variant; these two cover its four load paths.
      { a: [2, 64, 16], b: [16, 128], out: [2, 64, 128] },
      { a: [16, 64], b: [128, 16], out: [64, 128], tA: true, tB: true },
    ];
    for (const { a, b, out, tA = false, tB = false } of cases) {
      const attrs = { transposeA: tA, transposeB: tB, outShape: out };
      await compareKernel('matmul', [normal(a, 11), normal(b, 12)], attrs, { atol: 1e-4 });
      // SwiftShader takes seconds to compile the large tiling: one transpose variant of it is enough here.
      if (!tA && !tB) {
        await compareKernel('matmul', [normal(a, 11), normal(b, 12)], attrs, { backend: 'webgpu-large-tiles', atol: 1e-4 });
        // SwiftShader allows 32 KB of workgroup memory, so the deep tiling (16.5 KB) runs here too.
        await compareKernel('matmul', [normal(a, 11), normal(b, 12)], attrs, { backend: 'webgpu-deep-tiles', atol: 1e-4 });
      }
    }
  });

  it('transpose, slice, concat, pad, gather, scatterAdd', async () => {
    const x = normal([3, 4, 5], 13);
    await compareKernel('transpose', [x], { perm: [2, 0, 1] });
    await compareKernel('transpose', [x], { perm: [0, 2, 1] });
    await compareKernel('slice', [x], { begin: [1, 0, 2], size: [2, 4, 3] });
    await compareKernel('slice', [x], { begin: [0, 3, 0], size: [3, 1, 5] });
    await compareKernel('concat', [normal([2, 1, 5], 14), normal([2, 3, 5], 15), normal([2, 2, 5], 16)], { axis: 1 });
    await compareKernel('concat', [ints([1, 2]), ints([3])], { axis: 0 });
    await compareKernel('pad', [x], { paddings: [[0, 1], [2, 0], [1, 1]], value: -1.5 });
    await compareKernel('pad', [ints([1, 2, 3])], { paddings: [[2, 1]], value: 7 });
    await compareKernel('gather', [x, ints([2, 0, 2, 1, 1, 0], [2, 3])], { axis: 0 });
    await compareKernel('gather', [x, ints([3, 3, 0])], { axis: 1 });
    await compareKernel('gather', [ints([5, 6, 7, 8]), ints([3, 0])], { axis: 0 });
    await compareKernel('scatterAdd', [normal([3, 6, 5], 17), ints([2, 0, 2, 1, 2, 0], [6])], { axis: 1, shape: [3, 4, 5] });
  });

  it('softmax, logSoftmax, crossEntropy, rmsNorm, conv1d', async () => {
    for (const backend of ['webgpu', 'webgpu-no-subgroups']) {
      for (const [shape, axis] of [[[3, 7], 1], [[3, 7], 0], [[2, 300], 1], [[2, 5, 3], 1], [[1, 1], 1]] as [number[], number][]) {
        await compareKernel('softmax', [mul(normal(shape, 18), 4)], { axis }, { backend });
        await compareKernel('logSoftmax', [mul(normal(shape, 18), 4)], { axis }, { backend, atol: 1e-4 });
      }
      await compareKernel('crossEntropy', [normal([6, 11], 19), ints([3, -100, 0, 10, -100, 5])], { ignoreIndex: -100 }, { backend });
      await compareKernel('crossEntropy', [normal([3, 300], 20), ints([299, 0, 7])], { ignoreIndex: -100 }, { backend });
      await compareKernel('rmsNorm', [normal([2, 3, 5], 21), normal([5], 22)], { eps: 1e-5 }, { backend });
      await compareKernel('rmsNorm', [normal([3, 300], 21), normal([300], 22)], { eps: 1e-5 }, { backend });
      await compareKernel('addRmsNorm', [normal([2, 3, 5], 21), normal([2, 3, 5], 23), normal([5], 22)], { eps: 1e-5 }, { backend });
      await compareKernel('addRmsNorm', [normal([3, 300], 21), normal([3, 300], 23), normal([300], 22)], { eps: 1e-5 }, { backend });
    }
    await compareKernel('conv1d', [normal([2, 3, 9], 23), normal([3, 4], 24), normal([3], 25)]);
    await compareKernel('conv1d', [normal([1, 2, 3], 23), normal([2, 4], 24)]);
    // split: pieces along the first, a middle and the last axis, more pieces than one dispatch takes, an
    // empty piece, int32.
    await compareKernel('split', [normal([5, 3], 41)], { axis: 0, sizes: [2, 0, 3] });
    await compareKernel('split', [normal([2, 19, 3], 42)], { axis: 1, sizes: [1, 2, 3, 1, 4, 1, 5, 2] });
    await compareKernel('split', [normal([3, 80], 43)], { axis: 1, sizes: [48, 16, 16] });
    await compareKernel('split', [ints([1, 2, 3, 4, 5, 6], [2, 3])], { axis: 1, sizes: [1, 2] });
    for (const silu of [false, true]) {
      await compareKernel('conv1dStep', [normal([2, 67, 4], 26), normal([2, 67], 27), normal([67, 4], 28), normal([67], 29)], { silu });
      await compareKernel('conv1dStep', [normal([3, 5, 1], 26), normal([3, 5], 27), normal([5, 1], 28)], { silu });
    }
  });

  it('rfft and irfft, even and odd lengths, padded and cut', async () => {
    await compareKernel('rfft', [normal([3, 8], 26)], { n: 8 }, { atol: 2e-4 });
    await compareKernel('rfft', [normal([2, 7], 26)], { n: 7 }, { atol: 2e-4 });
    await compareKernel('rfft', [normal([2, 5], 26)], { n: 12 }, { atol: 2e-4 });
    await compareKernel('rfft', [normal([9], 26)], { n: 6 }, { atol: 2e-4 });
    await compareKernel('irfft', [normal([3, 5, 2], 27)], { n: 8 }, { atol: 1e-4 });
    await compareKernel('irfft', [normal([2, 4, 2], 27)], { n: 7 }, { atol: 1e-4 });
    await compareKernel('irfft', [normal([6, 2], 27)], { n: 4 }, { atol: 1e-4 });
    // Longer powers of two (radix-2 passes) and n = 1, 2.
    await compareKernel('rfft', [normal([3, 300], 28)], { n: 512 }, { atol: 2e-4 });
    await compareKernel('irfft', [normal([2, 257, 2], 29)], { n: 512 }, { atol: 1e-4 });
    await compareKernel('irfft', [normal([2, 300, 2], 29)], { n: 256 }, { atol: 1e-4 });
    await compareKernel('rfft', [normal([2, 20], 32)], { n: 16 }, { atol: 2e-4 });
    await compareKernel('rfft', [normal([4, 1], 30)], { n: 1 });
    await compareKernel('rfft', [normal([4, 2], 30)], { n: 2 });
    await compareKernel('irfft', [normal([4, 1, 2], 31)], { n: 1 });
    await compareKernel('irfft', [normal([4, 2, 2], 31)], { n: 2 });
  });
});

describe('webgpu backend: gradients match cpu', () => {
  /** d sum(f(xs)·w)/d xs on both backends. */
  async function compareGradients(f: (xs: Tensor[]) => Tensor, shapes: number[][], { atol = 1e-4, rtol = 1e-3 } = {}): Promise<void> {
    const inputs = shapes.map((s, i) => normal(s, 100 + i));
    const run = async (xs: Tensor[]) => {
      // A non-uniform weighting of the outputs: d/dy of sum(y²) = 2y.
      const { value, grads } = computeGradients(() => sum(square(f(xs))), xs);
      const out = [await value.data(), ...(await Promise.all(grads.map((g) => g.data())))];
      value.dispose();
      grads.forEach((g) => g.dispose());
      return out;
    };
    const want = await run(inputs);
    const moved = await moveAll(inputs, 'webgpu');
    // Gradient seeds (onesLike) are made on the current backend.
    await setBackend('webgpu');
    const got = await run(moved).finally(() => setBackend('cpu'));
    for (let k = 0; k < want.length; k++) expect(mismatch(got[k], want[k], atol, rtol), `output/gradient ${k}`).toBeNull();
    [...inputs, ...moved].forEach((t) => t.dispose());
  }

  it('elementwise, broadcasting, reductions and matmul', async () => {
    await compareGradients(([a, b]) => mul(sub(tanh(a), sigmoid(b)), add(a, b)), [[3, 4], [4]]);
    await compareGradients(([a, b]) => div(silu(a), add(exp(b), 1)), [[2, 3, 5], [3, 1]]);
    await compareGradients(([a, b]) => maximum(softplus(a), minimum(b, 0.5)), [[3, 5], [3, 5]]);
    await compareGradients(([a]) => pow(add(abs(a), 0.5), 3), [[7]]);
    await compareGradients(([a]) => add(sqrt(add(abs(a), 1)), gelu(a)), [[9]]);
    await compareGradients(([a]) => cos(a), [[9]], { atol: 1e-3 });
    await compareGradients(([a]) => add(mean(a, [1], { keepDims: true }), add(max(a, [0]), logsumexp(a, [1], { keepDims: true }))), [[4, 6]]);
    await compareGradients(([a, b]) => matmul(a, b, { transposeB: true }), [[2, 5, 7], [3, 7]]);
  });

  it('shape ops and nn ops', async () => {
    await compareGradients(([a, b]) => concat([transpose(a, [1, 0]), slice(b, [0, 1], [3, 2])], 1), [[4, 3], [3, 4]]);
    await compareGradients(([a]) => pad(a, [[1, 0], [0, 2]], 0.5), [[2, 3]]);
    await compareGradients(([a]) => gather(a, ints([2, 0, 2, 1], [2, 2]), 0), [[3, 4]]);
    await compareGradients(([a, b, c]) => where(ints([1, 0, 0, 1], [4, 1]), a, mul(b, c)), [[4, 3], [1, 3], [4, 1]]);
    await compareGradients(([a]) => add(softmax(a), logSoftmax(a, 0)), [[3, 5]]);
    await compareGradients(([a]) => crossEntropy(a, ints([1, -100, 4])), [[3, 6]]);
    await compareGradients(([x, w]) => rmsNorm(x, w), [[2, 3, 6], [6]]);
    await compareGradients(([x, w, b]) => conv1d(x, w, b), [[2, 3, 7], [3, 4], [3]]);
    await compareGradients(([x]) => irfft(rfft(x), 10), [[2, 10]], { atol: 5e-4, rtol: 1e-3 });
    await compareGradients(([x]) => irfft(mul(rfft(x, 16), 0.5), 16), [[3, 12]], { atol: 5e-4, rtol: 1e-3 });
  });
});

describe('webgpu backend: memory, batching and errors', () => {
  it('pool bytes and live tensors do not grow over a loop', async () => {
    await setBackend('webgpu');
    try {
      const w = normal([16, 16], 30);
      const step = async () => {
        const loss = tidy(() => {
          const x = randn([8, 16], { seed: 31 });
          const { value, grads } = computeGradients(() => sum(square(tanh(matmul(x, w)))), [w]);
          grads.forEach((g) => g.dispose());
          return value;
        });
        await loss.data();
        loss.dispose();
      };
      await step();
      const before = { live: memory().liveTensors, bytes: gpu.memory().bytes, pool: gpu.poolMemory() };
      for (let i = 0; i < 10; i++) await step();
      expect(memory().liveTensors).toBe(before.live);
      expect(gpu.memory().bytes).toBe(before.bytes);
      expect(gpu.poolMemory().bytes).toBe(before.pool.bytes);
      w.dispose();
      gpu.trimPool();
      expect(gpu.poolMemory()).toMatchObject({ bytes: 0, buffers: 0 });
    } finally {
      await setBackend('cpu');
    }
  });

  it('reuses bind groups: the same ops on pooled buffers make none after two rounds, and a trimmed pool gives right results', async () => {
    const made = countCalls(gpu.device, 'createBindGroup');
    try {
      const x = await toBackend(normal([67], 40), 'webgpu');
      const round = async () => {
        const y = tidy(() => sum(exp(add(mul(x, 0.5), 1))));
        const v = await y.data();
        y.dispose();
        return v[0];
      };
      // The first round allocates fresh buffers, the second takes them from the pool: from then on the
      // pool hands out the same buffers in the same order.
      const first = await round();
      expect(await round()).toBe(first);
      const afterFirst = made.count;
      expect(afterFirst).toBeGreaterThan(0);
      for (let i = 0; i < 5; i++) expect(await round()).toBe(first);
      expect(made.count, 'no new bind groups in later rounds').toBe(afterFirst);
      // Destroyed buffers are never bound again: new ones get new bind groups and the same values.
      gpu.trimPool();
      expect(await round()).toBe(first);
      expect(made.count).toBeGreaterThan(afterFirst);
      x.dispose();
    } finally {
      made.restore();
    }
  });

  it('a full pool makes room for the sizes in use, longest unused first (decoding after a long forward)', async () => {
    const be = await WebGpuBackend.create({ poolLimitBytes: 64 << 10 });
    const made = countCalls(be.device, 'createBuffer');
    try {
      // A long forward's buffers, freed, fill the pool to its limit.
      const large = Array.from({ length: 4 }, () => be.createBuffer(16 << 10));
      for (const buffer of large) be.releaseBuffer(buffer);
      expect(be.poolMemory()).toMatchObject({ bytes: 64 << 10, buffers: 4 });
      // Decoding then asks for and frees a small buffer at every token: it is kept from the first on.
      be.releaseBuffer(be.createBuffer(1024));
      const afterFirst = made.count;
      for (let i = 0; i < 5; i++) be.releaseBuffer(be.createBuffer(1024));
      expect(made.count, 'no new buffers after the first token').toBe(afterFirst);
      // One large buffer (the longest unused size) made room; the others stay.
      expect(be.poolMemory()).toMatchObject({ bytes: (48 << 10) + 1024, buffers: 4 });
    } finally {
      made.restore();
      be.dispose();
    }
  });

  it('batches dispatches until a read, and reads are asynchronous only', async () => {
    const x = await toBackend(normal([64], 32), 'webgpu');
    let y = x;
    for (let i = 0; i < 300; i++) {
      const next = add(y, 1);
      if (y !== x) y.dispose();
      y = next;
    }
    expect(() => y.dataSync()).toThrow(/await t\.data\(\)/);
    const [got, base] = [await y.data(), await x.data()];
    expect(mismatch(got, base.map((v) => v + 300), 1e-3, 0)).toBeNull();
    x.dispose();
    y.dispose();
  });

  it('reuses buffers freed inside a batch, and an upload into one waits for the reads before it', async () => {
    await setBackend('webgpu');
    await gpu.sync();
    gpu.trimPool();
    const a = tensor([1, 2, 3, 4]);
    const freed = (a.dataId as WebGpuData).buffer;
    const b = exp(a); // recorded, reads a's buffer
    a.dispose(); // freed while the batch is open
    const c = exp(b); // takes a's buffer for its output at once: it runs after the first exp
    expect((c.dataId as WebGpuData).buffer).toBe(freed);
    b.dispose();
    const d = tensor([9, 9, 9, 9]); // an upload into b's buffer: must not land before the second exp read b
    expect((d.dataId as WebGpuData).buffer).toBe((b.dataId as WebGpuData).buffer);
    expect(mismatch(await c.data(), [1, 2, 3, 4].map((v) => Math.exp(Math.exp(v))), 1e-3, 1e-5)).toBeNull();
    expect(Array.from(await d.data())).toEqual([9, 9, 9, 9]);
    for (const t of [c, d]) t.dispose();
    await setBackend('cpu');
  });

  it('a missing adapter is a typed error, and auto falls back', async () => {
    const { create } = await import('webgpu');
    await expect(WebGpuBackend.create({ gpu: create(['adapter=no-such-adapter']) })).rejects.toThrow(BackendError);
    await expect(WebGpuBackend.create({ gpu: create(['adapter=no-such-adapter']) })).rejects.toThrow(/no GPU adapter/);
    registerBackend('webgpu-without-adapter', () => WebGpuBackend.create({ gpu: create(['adapter=no-such-adapter']) }), 100);
    try {
      expect(await setBackend('auto')).toBe('webgpu');
    } finally {
      registerBackend('webgpu-without-adapter', () => Promise.reject(new BackendError('removed')), -100);
      await setBackend('cpu');
    }
  });

  it('a kernel that does not compile is a typed error at the next read and at sync, not silent zeros', async () => {
    const backend = await WebGpuBackend.create();
    const out = backend.allocate('float32', 4);
    const broken = { key: 'test/broken', source: () => '@compute @workgroup_size(1) fn main() { let x: f32 = undefinedName; }' };
    backend.dispatch({ program: broken, params: [], buffers: [], workgroups: [1, 1, 1] });
    await expect(backend.read(out, 'float32', 4)).rejects.toThrow(/GPU command failed/);
    backend.dispatch({ program: broken, params: [], buffers: [], workgroups: [1, 1, 1] });
    await expect(backend.sync()).rejects.toThrow(BackendError);
    // Reported once: the backend goes on working.
    await backend.sync();
    backend.dispose();
  });

  it('device loss is a typed error', async () => {
    const backend = await WebGpuBackend.create();
    const data = backend.allocate('float32', 4);
    backend.device.destroy();
    await backend.device.lost;
    expect(() => backend.allocate('float32', 4)).toThrow(/device was lost/);
    await expect(backend.read(data, 'float32', 4)).rejects.toThrow(BackendError);
  });
});
