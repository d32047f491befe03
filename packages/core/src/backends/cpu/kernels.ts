import type { Attrs, KernelFn, TensorInfo } from '../../backend';
import { engine } from '../../engine';
import { broadcastShapes, sizeOf, stridesOf } from '../../shape';
import type { CpuBackend } from './backend';
import { erf, erfc } from './special';
import { registerFftKernels } from './fft';
import { registerNnKernels } from './nn-kernels';
import { registerShapeKernels } from './shape-kernels';

export type CpuKernel = KernelFn<CpuBackend>;

export function register(name: string, fn: CpuKernel): void {
  engine.registerKernel(name, 'cpu', fn as KernelFn);
}

/** Strides of `shape` seen through broadcasting to `outShape` (0 on broadcast axes). */
export function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const strides = stridesOf(shape);
  const offset = outShape.length - shape.length;
  return outShape.map((d, i) => (i < offset || shape[i - offset] === 1 ? 0 : strides[i - offset]));
}

/**
 * Element offsets of batch matrix `bi`'s A and B in a batched matmul whose batch axes broadcast with
 * strides `sa`, `sb` (in matrices, from broadcastStrides) over `batchShape`.
 */
export function matmulBatchOffsets(
  bi: number,
  batchShape: readonly number[],
  sa: readonly number[],
  sb: readonly number[],
  aMatrix: number,
  bMatrix: number,
): [number, number] {
  let offA = 0;
  let offB = 0;
  let rem = bi;
  for (let d = batchShape.length - 1; d >= 0; d--) {
    const i = rem % batchShape[d];
    rem = Math.floor(rem / batchShape[d]);
    offA += i * sa[d] * aMatrix;
    offB += i * sb[d] * bMatrix;
  }
  return [offA, offB];
}

/** An elementwise binary kernel with NumPy broadcasting. */
function binary(name: string, f: (a: number, b: number) => number): void {
  register(name, ([a, b], _attrs, be) => {
    const x = be.values(a);
    const y = be.values(b);
    const shape = broadcastShapes(name, a.shape, b.shape);
    const n = sizeOf(shape);
    const out = new Float32Array(n);
    if (x.length === n && y.length === n) {
      for (let i = 0; i < n; i++) out[i] = f(x[i], y[i]);
    } else if (y.length === 1) {
      const s = y[0];
      for (let i = 0; i < n; i++) out[i] = f(x[i], s);
    } else {
      const sa = broadcastStrides(a.shape, shape);
      const sb = broadcastStrides(b.shape, shape);
      const idx = new Array<number>(shape.length).fill(0);
      let ia = 0;
      let ib = 0;
      for (let i = 0; i < n; i++) {
        out[i] = f(x[ia], y[ib]);
        // Odometer increment over the output index, moving both input offsets.
        for (let d = shape.length - 1; d >= 0; d--) {
          idx[d]++;
          ia += sa[d];
          ib += sb[d];
          if (idx[d] < shape[d]) break;
          ia -= sa[d] * shape[d];
          ib -= sb[d] * shape[d];
          idx[d] = 0;
        }
      }
    }
    return be.output(shape, 'float32', out);
  });
}

const GELU_TANH_SCALE = Math.sqrt(2 / Math.PI);

/** An elementwise unary kernel. */
function unary(name: string, f: (x: number, attrs: Attrs) => number): void {
  register(name, ([a], attrs, be) => {
    const x = be.values(a);
    const out = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) out[i] = f(x[i], attrs);
    return be.output(a.shape, 'float32', out);
  });
}

/** Iterates a reduction: for each output element, the input offsets of the reduced elements. */
function reduce(
  name: string,
  init: number,
  step: (acc: number, x: number) => number,
  finish: (acc: number, count: number) => number = (acc) => acc,
): void {
  register(name, ([a], attrs, be) => {
    const axes = attrs.axes as number[];
    const x = be.values(a);
    const { outer, reduced, outShape } = reductionPlan(a, axes, attrs.keepDims === true);
    const out = new Float32Array(outer.length);
    for (let o = 0; o < outer.length; o++) {
      let acc = init;
      const base = outer[o];
      for (let r = 0; r < reduced.length; r++) acc = step(acc, x[base + reduced[r]]);
      out[o] = finish(acc, reduced.length);
    }
    return be.output(outShape, 'float32', out);
  });
}

/** Offsets of the kept-axes positions (outer) and of the reduced positions relative to them. */
export function reductionPlan(a: TensorInfo, axes: readonly number[], keepDims: boolean) {
  const strides = stridesOf(a.shape);
  const keptAxes = a.shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const offsets = (dims: number[]): Int32Array => {
    const total = sizeOf(dims.map((d) => a.shape[d]));
    const result = new Int32Array(total);
    for (let i = 0; i < total; i++) {
      let rem = i;
      let off = 0;
      for (let k = dims.length - 1; k >= 0; k--) {
        const size = a.shape[dims[k]];
        off += (rem % size) * strides[dims[k]];
        rem = Math.floor(rem / size);
      }
      result[i] = off;
    }
    return result;
  };
  const outShape = keepDims ? a.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : keptAxes.map((i) => a.shape[i]);
  return { outer: offsets(keptAxes), reduced: offsets([...axes]), outShape };
}

export function registerCpuKernels(): void {
  binary('add', (a, b) => a + b);
  binary('sub', (a, b) => a - b);
  binary('mul', (a, b) => a * b);
  binary('div', (a, b) => a / b);

  unary('neg', (x) => -x);
  unary('exp', (x) => Math.exp(x));
  unary('log', (x) => Math.log(x));
  unary('sqrt', (x) => Math.sqrt(x));
  unary('rsqrt', (x) => 1 / Math.sqrt(x));
  unary('abs', (x) => Math.abs(x));
  unary('square', (x) => x * x);
  unary('sign', (x) => Math.sign(x));
  unary('sin', (x) => Math.sin(x));
  unary('cos', (x) => Math.cos(x));
  unary('tanh', (x) => Math.tanh(x));
  unary('sigmoid', (x) => 1 / (1 + Math.exp(-x)));
  unary('silu', (x) => x / (1 + Math.exp(-x)));
  // PyTorch's threshold: above 20, log1p(exp(x)) equals x in float32.
  unary('softplus', (x) => (x > 20 ? x : Math.log1p(Math.exp(x))));
  unary('erf', (x) => erf(x));
  unary('gelu', (x, attrs) => {
    if (attrs.approximate === 'tanh') return 0.5 * x * (1 + Math.tanh(GELU_TANH_SCALE * (x + 0.044715 * x * x * x)));
    // x·Φ(x) with Φ(x) = erfc(−x/√2)/2: keeps relative accuracy in the far negative tail.
    return 0.5 * x * erfc(-x * Math.SQRT1_2);
  });

  binary('pow', (a, b) => Math.pow(a, b));
  binary('maximum', (a, b) => (a >= b || Number.isNaN(a) ? a : b));
  binary('minimum', (a, b) => (a <= b || Number.isNaN(a) ? a : b));

  reduce('sum', 0, (acc, x) => acc + x);
  reduce('mean', 0, (acc, x) => acc + x, (acc, count) => acc / count);
  // NaN wins, as in torch.amax.
  reduce('max', -Infinity, (acc, x) => (x > acc || Number.isNaN(x) ? x : acc));
  registerLogsumexp();
  registerArgmax();

  registerShapeKernels();
  registerNnKernels();
  registerFftKernels();

  // Batched matmul: a [..., M, K] (or [..., K, M] with transposeA), b [..., K, N] (or [..., N, K]);
  // batch dims broadcast. The ops layer has checked the shapes and passes outShape.
  register('matmul', ([a, b], attrs, be) => {
    const { transposeA, transposeB, outShape } = attrs as { transposeA: boolean; transposeB: boolean; outShape: number[] };
    const x = be.values(a);
    const y = be.values(b);
    const rank = outShape.length;
    const M = outShape[rank - 2];
    const N = outShape[rank - 1];
    const K = transposeA ? a.shape[a.shape.length - 2] : a.shape[a.shape.length - 1];
    const batchShape = outShape.slice(0, rank - 2);
    const batch = sizeOf(batchShape);
    const sa = broadcastStrides(a.shape.slice(0, -2), batchShape);
    const sb = broadcastStrides(b.shape.slice(0, -2), batchShape);
    const out = new Float32Array(batch * M * N);
    const row = new Float32Array(K);
    for (let bi = 0; bi < batch; bi++) {
      const [offA, offB] = matmulBatchOffsets(bi, batchShape, sa, sb, M * K, K * N);
      for (let m = 0; m < M; m++) {
        for (let k = 0; k < K; k++) row[k] = transposeA ? x[offA + k * M + m] : x[offA + m * K + k];
        const o = (bi * M + m) * N;
        if (transposeB) {
          for (let n = 0; n < N; n++) {
            let acc = 0;
            const bRow = offB + n * K;
            for (let k = 0; k < K; k++) acc += row[k] * y[bRow + k];
            out[o + n] = acc;
          }
        } else {
          for (let k = 0; k < K; k++) {
            const r = row[k];
            if (r === 0) continue;
            const bRow = offB + k * N;
            for (let n = 0; n < N; n++) out[o + n] += r * y[bRow + n];
          }
        }
      }
    }
    return be.output(outShape, 'float32', out);
  });

  register('broadcastTo', ([a], attrs, be) => {
    const shape = attrs.shape as number[];
    const x = be.values(a);
    const n = sizeOf(shape);
    const out = new Float32Array(n);
    const sa = broadcastStrides(a.shape, shape);
    const idx = new Array<number>(shape.length).fill(0);
    let ia = 0;
    for (let i = 0; i < n; i++) {
      out[i] = x[ia];
      for (let d = shape.length - 1; d >= 0; d--) {
        idx[d]++;
        ia += sa[d];
        if (idx[d] < shape[d]) break;
        ia -= sa[d] * shape[d];
        idx[d] = 0;
      }
    }
    return be.output(shape, a.dtype, a.dtype === 'int32' ? Int32Array.from(out) : out);
  });
}

/** log Σ exp over axes, shifted by the maximum so large inputs do not overflow. */
function registerLogsumexp(): void {
  register('logsumexp', ([a], attrs, be) => {
    const x = be.values(a);
    const { outer, reduced, outShape } = reductionPlan(a, attrs.axes as number[], attrs.keepDims === true);
    const out = new Float32Array(outer.length);
    for (let o = 0; o < outer.length; o++) {
      const base = outer[o];
      let max = -Infinity;
      for (let r = 0; r < reduced.length; r++) max = Math.max(max, x[base + reduced[r]]);
      if (!Number.isFinite(max)) {
        out[o] = reduced.length === 0 ? -Infinity : max;
        continue;
      }
      let acc = 0;
      for (let r = 0; r < reduced.length; r++) acc += Math.exp(x[base + reduced[r]] - max);
      out[o] = max + Math.log(acc);
    }
    return be.output(outShape, 'float32', out);
  });
}

/** Index of the first maximum along one axis (NaN counts as the maximum, like torch). */
function registerArgmax(): void {
  register('argmax', ([a], attrs, be) => {
    const axis = attrs.axis as number;
    const x = be.values(a);
    const outer = sizeOf(a.shape.slice(0, axis));
    const n = a.shape[axis];
    const inner = sizeOf(a.shape.slice(axis + 1));
    const out = new Int32Array(outer * inner);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const base = o * n * inner + i;
        let best = 0;
        let bestValue = x[base];
        for (let k = 1; k < n && !Number.isNaN(bestValue); k++) {
          const v = x[base + k * inner];
          if (v > bestValue || Number.isNaN(v)) {
            best = k;
            bestValue = v;
          }
        }
        out[o * inner + i] = best;
      }
    }
    return be.output([...a.shape.slice(0, axis), ...a.shape.slice(axis + 1)], 'int32', out);
  });
}
