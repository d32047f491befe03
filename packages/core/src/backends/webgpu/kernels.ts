import type { Attrs, KernelFn, TensorInfo } from '../../backend';
import type { DType } from '../../dtype';
import { engine } from '../../engine';
import { BackendError } from '../../errors';
import { broadcastShapes, sameShape, sizeOf, stridesOf } from '../../shape';
import { grid, type Program, WebGpuData, type WebGpuBackend } from './backend';
import { COPY_WORKGROUP, fillSource, SPLIT_PIECES, splitSource, stridedCopySource } from './kernels/copy.wgsl';
import { conv1dSource, conv1dStepSource } from './kernels/conv1d.wgsl';
import { crossEntropyMeanSource, crossEntropyRowsSource } from './kernels/cross_entropy.wgsl';
import { BINARY_OPS, binarySource, castSource, ELEMENTWISE_WORKGROUP, UNARY_OPS, unarySource, whereSource } from './kernels/elementwise.wgsl';
import { fftPassSource, irfftPackSource, irfftSource, irfftUnpackSource, rfftPackSource, rfftSource, rfftUnpackSource } from './kernels/fft.wgsl';
import { gatherSource, oneHotSource, scatterAddSource } from './kernels/gather.wgsl';
import { MATMUL_LARGE, MATMUL_LARGE_DEEP, MATMUL_SMALL, matmulSource, matmulWorkgroupBytes, type MatmulTiling } from './kernels/matmul.wgsl';
import { argmaxSource, REDUCE_WORKGROUP, reduceSource, type ReduceOp } from './kernels/reduce.wgsl';
import { GEMV_MAX_ROWS, GEMV_WORKGROUP, gemvSource } from './kernels/gemv.wgsl';
import { rmsNormSource } from './kernels/rms_norm.wgsl';
import { softmaxSource } from './kernels/softmax.wgsl';

type WebGpuKernel = KernelFn<WebGpuBackend>;

function register(name: string, fn: WebGpuKernel): void {
  engine.registerKernel(name, 'webgpu', fn as KernelFn);
}

const programs = new Map<string, Program>();

/** The Program for a kernel variant; `source` runs once per key (and the backend compiles once). */
function program(key: string, source: () => string): Program {
  let p = programs.get(key);
  if (!p) programs.set(key, (p = { key, source }));
  return p;
}

function bufferOf(info: TensorInfo): GPUBuffer {
  return (info.dataId as WebGpuData).buffer;
}

function output(be: WebGpuBackend, shape: readonly number[], dtype: DType = 'float32'): TensorInfo {
  return { dataId: be.allocate(dtype, sizeOf(shape)), shape, dtype };
}

const f32Bits = new Uint32Array(1);
const f32View = new Float32Array(f32Bits.buffer);

/** The bits of a float32 (kernels get floats through their u32 params). */
function floatBits(value: number): number {
  f32View[0] = value;
  return f32Bits[0];
}

/** Strides of `shape` read through broadcasting to `outShape` (0 on broadcast axes). */
function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const strides = stridesOf(shape);
  const lead = outShape.length - shape.length;
  return outShape.map((_, i) => (i < lead || shape[i - lead] === 1 ? 0 : strides[i - lead]));
}

/**
 * Merges neighbouring axes that every stride list walks contiguously (and drops size-1 axes), so
 * kernels decode fewer dimensions. Returns the merged shape and strides.
 */
function collapse(shape: readonly number[], ...strideLists: (readonly number[])[]): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strideLists.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = outShape.length - 1;
    const mergeable = last >= 0 && strideLists.every((s, j) => outStrides[j][last] === s[d] * shape[d]);
    if (mergeable) {
      outShape[last] *= shape[d];
      strideLists.forEach((s, j) => (outStrides[j][last] = s[d]));
    } else {
      outShape.push(shape[d]);
      strideLists.forEach((s, j) => outStrides[j].push(s[d]));
    }
  }
  return { shape: outShape, strides: outStrides };
}

// ---------------------------------------------------------------- data movement

/** Copies the index space `shape` from `src` (inBase + Σ i·inStrides) to `dst` (outBase + Σ i·outStrides). */
function stridedCopy(
  be: WebGpuBackend,
  src: GPUBuffer,
  dst: GPUBuffer,
  shape: readonly number[],
  inStrides: readonly number[],
  outStrides: readonly number[],
  inBase = 0,
  outBase = 0,
): void {
  const n = sizeOf(shape);
  if (n === 0) return;
  const c = collapse(shape, inStrides, outStrides);
  be.dispatch({
    program: program('copy', stridedCopySource),
    params: [n, c.shape.length, inBase, outBase, ...c.shape, ...c.strides[0], ...c.strides[1]],
    buffers: [src, dst],
    workgroups: grid(n, COPY_WORKGROUP),
  });
}

function fill(be: WebGpuBackend, dst: GPUBuffer, n: number, bits: number): void {
  be.dispatch({ program: program('fill', fillSource), params: [n, bits], buffers: [dst], workgroups: grid(n, COPY_WORKGROUP) });
}

function registerDataMovement(): void {
  register('broadcastTo', ([a], attrs, be) => {
    const shape = attrs.shape as number[];
    const y = output(be, shape, a.dtype);
    stridedCopy(be, bufferOf(a), bufferOf(y), shape, broadcastStrides(a.shape, shape), stridesOf(shape));
    return y;
  });

  register('transpose', ([a], attrs, be) => {
    const perm = attrs.perm as number[];
    const inStrides = stridesOf(a.shape);
    const shape = perm.map((p) => a.shape[p]);
    const y = output(be, shape, a.dtype);
    stridedCopy(be, bufferOf(a), bufferOf(y), shape, perm.map((p) => inStrides[p]), stridesOf(shape));
    return y;
  });

  register('slice', ([a], attrs, be) => {
    const begin = attrs.begin as number[];
    const size = attrs.size as number[];
    const strides = stridesOf(a.shape);
    const start = begin.reduce((acc, b, d) => acc + b * strides[d], 0);
    const y = output(be, size, a.dtype);
    stridedCopy(be, bufferOf(a), bufferOf(y), size, strides, stridesOf(size), start);
    return y;
  });

  register('split', ([a], attrs, be) => {
    const axis = attrs.axis as number;
    const sizes = attrs.sizes as number[];
    const inner = sizeOf(a.shape.slice(axis + 1));
    const n = sizeOf(a.shape);
    const outs = sizes.map((size) => output(be, a.shape.map((d, i) => (i === axis ? size : d)), a.dtype));
    // Pieces SPLIT_PIECES at a time; empty ones get no binding (their buffers hold nothing to write).
    const placed = sizes.map((size, k) => ({ size, begin: sizes.slice(0, k).reduce((m, s) => m + s, 0), out: outs[k] })).filter((q) => q.size > 0);
    for (let first = 0; first < placed.length && n > 0; first += SPLIT_PIECES) {
      const group = placed.slice(first, first + SPLIT_PIECES);
      be.dispatch({
        program: program(`split:${group.length}`, () => splitSource(group.length)),
        params: [n, a.shape[axis] * inner, inner, ...group.flatMap((q) => [q.begin, q.size])],
        buffers: [bufferOf(a), ...group.map((q) => bufferOf(q.out))],
        workgroups: grid(n, COPY_WORKGROUP),
      });
    }
    return outs;
  });

  register('concat', (inputs, attrs, be) => {
    const axis = attrs.axis as number;
    const shape = [...inputs[0].shape];
    shape[axis] = inputs.reduce((n, t) => n + t.shape[axis], 0);
    const y = output(be, shape, inputs[0].dtype);
    const outStrides = stridesOf(shape);
    let at = 0;
    for (const t of inputs) {
      stridedCopy(be, bufferOf(t), bufferOf(y), t.shape, stridesOf(t.shape), outStrides, 0, at * outStrides[axis]);
      at += t.shape[axis];
    }
    return y;
  });

  register('pad', ([a], attrs, be) => {
    const paddings = attrs.paddings as [number, number][];
    const value = attrs.value as number;
    const shape = a.shape.map((d, i) => paddings[i][0] + d + paddings[i][1]);
    const y = output(be, shape, a.dtype);
    const outStrides = stridesOf(shape);
    fill(be, bufferOf(y), sizeOf(shape), a.dtype === 'int32' ? value >>> 0 : floatBits(value));
    const start = paddings.reduce((acc, [before], d) => acc + before * outStrides[d], 0);
    stridedCopy(be, bufferOf(a), bufferOf(y), a.shape, stridesOf(a.shape), outStrides, 0, start);
    return y;
  });

  register('gather', ([a, idx], attrs, be) => {
    const axis = attrs.axis as number;
    const shape = [...a.shape.slice(0, axis), ...idx.shape, ...a.shape.slice(axis + 1)];
    const y = output(be, shape, a.dtype);
    const n = sizeOf(shape);
    const inner = sizeOf(a.shape.slice(axis + 1));
    const nIdx = sizeOf(idx.shape);
    be.dispatch({
      program: program('gather', gatherSource),
      params: [n, a.shape[axis], inner, nIdx],
      buffers: [bufferOf(a), bufferOf(idx), bufferOf(y)],
      workgroups: grid(n, 256),
    });
    return y;
  });

  register('scatterAdd', ([u, idx], attrs, be) => {
    const axis = attrs.axis as number;
    const shape = attrs.shape as number[];
    const y = output(be, shape);
    fill(be, bufferOf(y), sizeOf(shape), 0);
    const inner = sizeOf(shape.slice(axis + 1));
    const n = sizeOf(u.shape);
    be.dispatch({
      program: program('scatterAdd', scatterAddSource),
      params: [n, shape[axis], inner, sizeOf(idx.shape)],
      buffers: [bufferOf(u), bufferOf(idx), bufferOf(y)],
      workgroups: grid(n, 256),
    });
    return y;
  });

  register('oneHot', ([idx], attrs, be) => {
    const depth = attrs.depth as number;
    const y = output(be, [...idx.shape, depth]);
    const n = sizeOf(idx.shape) * depth;
    be.dispatch({ program: program('oneHot', oneHotSource), params: [n, depth], buffers: [bufferOf(idx), bufferOf(y)], workgroups: grid(n, 256) });
    return y;
  });

  register('where', ([c, a, b], attrs, be) => {
    const shape = attrs.shape as number[];
    const y = output(be, shape, a.dtype);
    const n = sizeOf(shape);
    const col = collapse(shape, broadcastStrides(c.shape, shape), broadcastStrides(a.shape, shape), broadcastStrides(b.shape, shape));
    be.dispatch({
      program: program('where', whereSource),
      params: [n, col.shape.length, ...col.shape, ...col.strides[0], ...col.strides[1], ...col.strides[2]],
      buffers: [bufferOf(c), bufferOf(a), bufferOf(b), bufferOf(y)],
      workgroups: grid(n, ELEMENTWISE_WORKGROUP),
    });
    return y;
  });

  register('cast', ([a], attrs, be) => {
    const dtype = attrs.dtype as DType;
    const y = output(be, a.shape, dtype);
    const n = sizeOf(a.shape);
    if (dtype === a.dtype) stridedCopy(be, bufferOf(a), bufferOf(y), [n], [1], [1]);
    else {
      be.dispatch({
        program: program(`cast:${dtype}`, () => castSource(dtype)),
        params: [n],
        buffers: [bufferOf(a), bufferOf(y)],
        workgroups: grid(n, ELEMENTWISE_WORKGROUP),
      });
    }
    return y;
  });
}

// ---------------------------------------------------------------- elementwise

function registerElementwise(): void {
  for (const name of Object.keys(UNARY_OPS)) {
    if (name === 'geluTanh') continue;
    register(name, ([a], attrs: Attrs, be) => {
      const op = name === 'gelu' && attrs.approximate === 'tanh' ? 'geluTanh' : name;
      const y = output(be, a.shape);
      const n = sizeOf(a.shape);
      const vec4 = n % 4 === 0;
      const count = vec4 ? n / 4 : n;
      be.dispatch({
        program: program(`unary:${op}:${vec4}`, () => unarySource(UNARY_OPS[op], vec4)),
        params: [count],
        buffers: [bufferOf(a), bufferOf(y)],
        workgroups: grid(count, ELEMENTWISE_WORKGROUP),
      });
      return y;
    });
  }

  for (const [name, expr] of Object.entries(BINARY_OPS)) {
    register(name, ([a, b], _attrs, be) => {
      const shape = broadcastShapes(name, a.shape, b.shape);
      const y = output(be, shape);
      const n = sizeOf(shape);
      const buffers = [bufferOf(a), bufferOf(b), bufferOf(y)];
      if (sameShape(a.shape, shape) && sameShape(b.shape, shape)) {
        const vec4 = n % 4 === 0;
        const count = vec4 ? n / 4 : n;
        const mode = vec4 ? 'same4' : 'same';
        be.dispatch({
          program: program(`binary:${name}:${mode}`, () => binarySource(expr, mode)),
          params: [count],
          buffers,
          workgroups: grid(count, ELEMENTWISE_WORKGROUP),
        });
      } else {
        const c = collapse(shape, broadcastStrides(a.shape, shape), broadcastStrides(b.shape, shape));
        be.dispatch({
          program: program(`binary:${name}:broadcast`, () => binarySource(expr, 'broadcast')),
          params: [n, c.shape.length, ...c.shape, ...c.strides[0], ...c.strides[1]],
          buffers,
          workgroups: grid(n, ELEMENTWISE_WORKGROUP),
        });
      }
      return y;
    });
  }
}

// ---------------------------------------------------------------- reductions

/** Reductions with at least this many elements per output get a workgroup each. */
const GROUP_REDUCE_MIN = 64;

interface Layout {
  shape: number[];
  strides: number[];
}

/** One reduction dispatch (see reduceSource): `chunks` workgroups per output, mean divided by `divisor`. */
function reduce(
  be: WebGpuBackend,
  op: ReduceOp,
  input: GPUBuffer,
  output: GPUBuffer,
  outCount: number,
  kept: Layout,
  reduced: Layout,
  chunks = 1,
  divisor = sizeOf(reduced.shape),
): void {
  const count = sizeOf(reduced.shape);
  const group = count >= GROUP_REDUCE_MIN;
  const subgroups = group && be.subgroupsFor(REDUCE_WORKGROUP);
  const mode = group ? 'group' : 'thread';
  be.dispatch({
    program: program(`reduce:${op}:${mode}:${subgroups}`, () => reduceSource(op, mode, subgroups)),
    params: [outCount, count, kept.shape.length, reduced.shape.length, chunks, divisor, ...kept.shape, ...kept.strides, ...reduced.shape, ...reduced.strides],
    buffers: [input, output],
    workgroups: group ? grid(outCount * chunks, 1) : grid(outCount, REDUCE_WORKGROUP),
  });
}

function registerReductions(): void {
  for (const op of ['sum', 'mean', 'max', 'logsumexp'] as ReduceOp[]) {
    register(op, ([a], attrs, be) => {
      const axes = attrs.axes as number[];
      const keepDims = attrs.keepDims === true;
      const strides = stridesOf(a.shape);
      const keptAxes = a.shape.map((_, i) => i).filter((i) => !axes.includes(i));
      const outShape = keepDims ? a.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : keptAxes.map((i) => a.shape[i]);
      const y = output(be, outShape);
      const outCount = sizeOf(outShape);
      const count = sizeOf(axes.map((i) => a.shape[i]));
      const k = collapse(keptAxes.map((i) => a.shape[i]), keptAxes.map((i) => strides[i]));
      const r = collapse(axes.map((i) => a.shape[i]), axes.map((i) => strides[i]));
      const kept = { shape: k.shape, strides: k.strides[0] };
      const reduced = { shape: r.shape, strides: r.strides[0] };
      // Few outputs of very many elements: split each into chunks so the whole GPU works on them,
      // then reduce the partials (logsumexp would need (max, sum) pairs: it keeps one pass).
      const chunks = op !== 'logsumexp' && outCount < 128 && count >= 16384 ? Math.min(1024, Math.ceil(count / 4096)) : 1;
      if (chunks === 1) reduce(be, op, bufferOf(a), bufferOf(y), outCount, kept, reduced);
      else {
        const partials = be.createBuffer(outCount * chunks * 4);
        reduce(be, op === 'mean' ? 'sum' : op, bufferOf(a), partials, outCount, kept, reduced, chunks);
        reduce(be, op, partials, bufferOf(y), outCount, { shape: [outCount], strides: [chunks] }, { shape: [chunks], strides: [1] }, 1, count);
        be.releaseBuffer(partials);
      }
      return y;
    });
  }

  register('argmax', ([a], attrs, be) => {
    const axis = attrs.axis as number;
    const shape = [...a.shape.slice(0, axis), ...a.shape.slice(axis + 1)];
    const y = output(be, shape, 'int32');
    const n = sizeOf(shape);
    const mode = a.shape[axis] >= GROUP_REDUCE_MIN ? 'group' : 'thread';
    be.dispatch({
      program: program(`argmax:${mode}`, () => argmaxSource(mode)),
      params: [n, a.shape[axis], sizeOf(a.shape.slice(axis + 1))],
      buffers: [bufferOf(a), bufferOf(y)],
      workgroups: mode === 'group' ? grid(n, 1) : grid(n, REDUCE_WORKGROUP),
    });
    return y;
  });
}

// ---------------------------------------------------------------- matmul

/** Large tiles once they still give every streaming multiprocessor a few workgroups. */
function tilingFor(M: number, N: number, batch: number, workgroupBytes: number): MatmulTiling {
  const largeTiles = Math.ceil(M / MATMUL_LARGE.BM) * Math.ceil(N / MATMUL_LARGE.BN) * batch;
  if (largeTiles < 256) return MATMUL_SMALL;
  return matmulWorkgroupBytes(MATMUL_LARGE_DEEP) <= workgroupBytes ? MATMUL_LARGE_DEEP : MATMUL_LARGE;
}

function registerMatmul(): void {
  register('matmul', ([a, b], attrs, be) => {
    const { transposeA, transposeB, outShape } = attrs as { transposeA: boolean; transposeB: boolean; outShape: number[] };
    const rank = outShape.length;
    const M = outShape[rank - 2];
    const N = outShape[rank - 1];
    const K = transposeA ? a.shape[a.shape.length - 2] : a.shape[a.shape.length - 1];
    const batchShape = outShape.slice(0, rank - 2);
    const batch = sizeOf(batchShape);
    if (batch > 65535) throw new BackendError(`matmul: ${batch} batch matrices exceed the 65535 a webgpu dispatch allows; reshape into fewer, larger ones`);
    const y = output(be, outShape);
    // A few rows against a [N, K] matrix (a decoding step's projections): the matrix-vector kernel.
    if (batch === 1 && !transposeA && transposeB && M > 0 && M <= GEMV_MAX_ROWS && N > 0 && K > 0 && !be.matmulTiling) {
      const vec4 = K % 4 === 0;
      const subgroups = be.subgroupsFor(GEMV_WORKGROUP);
      be.dispatch({
        program: program(`gemv:${M}:${vec4}:${subgroups}`, () => gemvSource(M, vec4, subgroups)),
        params: [M, N, vec4 ? K / 4 : K],
        buffers: [bufferOf(a), bufferOf(b), bufferOf(y)],
        workgroups: grid(N, 1),
      });
      return y;
    }
    const aStrides = broadcastStrides(a.shape.slice(0, -2), batchShape).map((s) => s * M * K);
    const bStrides = broadcastStrides(b.shape.slice(0, -2), batchShape).map((s) => s * K * N);
    const tiling = be.matmulTiling ?? tilingFor(M, N, batch, be.limits.maxComputeWorkgroupStorageSize);
    // Every tile full: vec4 loads and stores without bounds checks.
    const aligned = K > 0 && M % tiling.BM === 0 && N % tiling.BN === 0 && K % tiling.BK === 0;
    const key = `matmul:${tiling.BM}x${tiling.BN}x${tiling.BK}:${tiling.TM}x${tiling.TN}:${transposeA}:${transposeB}:${aligned}`;
    be.dispatch({
      program: program(key, () => matmulSource(tiling, transposeA, transposeB, aligned)),
      params: [M, N, K, batchShape.length, ...batchShape, ...aStrides, ...bStrides],
      buffers: [bufferOf(a), bufferOf(b), bufferOf(y)],
      workgroups: [Math.ceil(N / tiling.BN), Math.ceil(M / tiling.BM), batch],
    });
    return y;
  });
}

// ---------------------------------------------------------------- nn

/** Threads per row for row kernels: 64 for short rows, 256 for long ones. */
function rowSize(length: number): number {
  return length <= 256 ? 64 : 256;
}

function registerNn(): void {
  for (const [name, log] of [
    ['softmax', false],
    ['logSoftmax', true],
  ] as const) {
    register(name, ([a], attrs, be) => {
      const axis = attrs.axis as number;
      const n = a.shape[axis];
      const inner = sizeOf(a.shape.slice(axis + 1));
      const rows = sizeOf(a.shape) / Math.max(n, 1);
      const y = output(be, a.shape);
      const size = rowSize(n);
      const subgroups = be.subgroupsFor(size);
      be.dispatch({
        program: program(`${name}:${size}:${subgroups}`, () => softmaxSource(log, size, subgroups)),
        params: [n === 0 ? 0 : rows, n, inner],
        buffers: [bufferOf(a), bufferOf(y)],
        workgroups: grid(n === 0 ? 0 : rows, 1),
      });
      return y;
    });
  }

  register('crossEntropy', ([logits, targets], attrs, be) => {
    const [N, C] = logits.shape;
    const size = rowSize(C);
    const subgroups = be.subgroupsFor(size);
    const losses = be.createBuffer(Math.max(N, 1) * 8);
    be.dispatch({
      program: program(`crossEntropyRows:${size}:${subgroups}`, () => crossEntropyRowsSource(size, subgroups)),
      params: [N, C, (attrs.ignoreIndex as number) >>> 0],
      buffers: [bufferOf(logits), bufferOf(targets), losses],
      workgroups: grid(N, 1),
    });
    const y = output(be, []);
    be.dispatch({ program: program('crossEntropyMean', () => crossEntropyMeanSource(256)), params: [N], buffers: [losses, bufferOf(y)], workgroups: [1, 1, 1] });
    be.releaseBuffer(losses);
    return y;
  });

  register('rmsNorm', ([x, w], attrs, be) => {
    const D = w.shape[0];
    const rows = D === 0 ? 0 : sizeOf(x.shape) / D;
    const size = rowSize(D);
    const subgroups = be.subgroupsFor(size);
    const y = output(be, x.shape);
    be.dispatch({
      program: program(`rmsNorm:${size}:${subgroups}`, () => rmsNormSource(size, subgroups)),
      params: [rows, D, floatBits(attrs.eps as number)],
      buffers: [bufferOf(x), bufferOf(w), bufferOf(y)],
      workgroups: grid(rows, 1),
    });
    return y;
  });

  register('addRmsNorm', ([x, residual, w], attrs, be) => {
    const D = w.shape[0];
    const rows = D === 0 ? 0 : sizeOf(x.shape) / D;
    const size = rowSize(D);
    const subgroups = be.subgroupsFor(size);
    const [sum, normed] = [output(be, x.shape), output(be, x.shape)];
    be.dispatch({
      program: program(`addRmsNorm:${size}:${subgroups}`, () => rmsNormSource(size, subgroups, true)),
      params: [rows, D, floatBits(attrs.eps as number)],
      buffers: [bufferOf(x), bufferOf(w), bufferOf(normed), bufferOf(residual), bufferOf(sum)],
      workgroups: grid(rows, 1),
    });
    return [sum, normed];
  });

  register('conv1d', ([x, w, bias], _attrs, be) => {
    const [, C, L] = x.shape;
    const K = w.shape[1];
    const y = output(be, x.shape);
    const n = sizeOf(x.shape);
    be.dispatch({
      program: program('conv1d', conv1dSource),
      params: [n, C, L, K, bias ? 1 : 0],
      // Without a bias the weight stands in for the unused binding.
      buffers: [bufferOf(x), bufferOf(w), bufferOf(bias ?? w), bufferOf(y)],
      workgroups: grid(n, 256),
    });
    return y;
  });

  register('conv1dStep', ([window, x, w, bias], attrs, be) => {
    const [B, C, K] = window.shape;
    const y = output(be, [B, C]);
    const next = output(be, window.shape);
    be.dispatch({
      program: program('conv1dStep', conv1dStepSource),
      params: [B * C, C, K, bias ? 1 : 0, attrs.silu ? 1 : 0],
      buffers: [bufferOf(window), bufferOf(x), bufferOf(w), bufferOf(bias ?? w), bufferOf(y), bufferOf(next)],
      workgroups: grid(B * C, 64),
    });
    return [y, next];
  });

  register('rfft', ([x], attrs, be) => {
    const n = attrs.n as number;
    const L = x.shape[x.shape.length - 1];
    const rows = sizeOf(x.shape.slice(0, -1));
    const bins = Math.floor(n / 2) + 1;
    const y = output(be, [...x.shape.slice(0, -1), bins, 2]);
    if (isPowerOfTwo(n)) {
      const signal = be.createBuffer(rows * n * 8);
      be.dispatch({ program: program('rfftPack', rfftPackSource), params: [rows * n, L, n], buffers: [bufferOf(x), signal], workgroups: grid(rows * n, 256) });
      const spectrum = fftPasses(be, signal, rows, n, false);
      be.dispatch({
        program: program('rfftUnpack', rfftUnpackSource),
        params: [rows * bins, n, bins],
        buffers: [spectrum, bufferOf(y)],
        workgroups: grid(rows * bins, 256),
      });
      be.releaseBuffer(spectrum);
    } else {
      be.dispatch({ program: program('rfft', rfftSource), params: [rows * bins, L, n, bins], buffers: [bufferOf(x), bufferOf(y)], workgroups: grid(rows * bins, 64) });
    }
    return y;
  });

  register('irfft', ([X], attrs, be) => {
    const n = attrs.n as number;
    const m = X.shape[X.shape.length - 2];
    const rows = sizeOf(X.shape.slice(0, -2));
    const y = output(be, [...X.shape.slice(0, -2), n]);
    if (isPowerOfTwo(n)) {
      const spectrum = be.createBuffer(rows * n * 8);
      be.dispatch({ program: program('irfftPack', irfftPackSource), params: [rows * n, m, n], buffers: [bufferOf(X), spectrum], workgroups: grid(rows * n, 256) });
      const signal = fftPasses(be, spectrum, rows, n, true);
      be.dispatch({ program: program('irfftUnpack', irfftUnpackSource), params: [rows * n, n], buffers: [signal, bufferOf(y)], workgroups: grid(rows * n, 256) });
      be.releaseBuffer(signal);
    } else {
      be.dispatch({ program: program('irfft', irfftSource), params: [rows * n, m, n], buffers: [bufferOf(X), bufferOf(y)], workgroups: grid(rows * n, 64) });
    }
    return y;
  });
}

const twiddleTables = new WeakMap<WebGpuBackend, Map<number, GPUBuffer>>();

/** e^(−2πij/n) for j < n/2, rounded from float64; made once per backend and length (constants, not tensors). */
function twiddleTable(be: WebGpuBackend, n: number): GPUBuffer {
  let tables = twiddleTables.get(be);
  if (!tables) twiddleTables.set(be, (tables = new Map()));
  let table = tables.get(n);
  if (!table) {
    const values = new Float32Array(Math.max(n, 4));
    for (let j = 0; j < n / 2; j++) {
      values[2 * j] = Math.cos((2 * Math.PI * j) / n);
      values[2 * j + 1] = -Math.sin((2 * Math.PI * j) / n);
    }
    table = be.device.createBuffer({ size: values.byteLength, usage: STORAGE_COPY_DST });
    be.device.queue.writeBuffer(table, 0, values);
    tables.set(n, table);
  }
  return table;
}

// STORAGE | COPY_DST (spec values; Node has no GPUBufferUsage global).
const STORAGE_COPY_DST = 0x80 | 0x8;

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

/**
 * log2(n) Stockham passes over `rows` complex rows of length n, ping-ponging between `data` and a
 * second buffer; returns the buffer holding the result and releases the other.
 */
function fftPasses(be: WebGpuBackend, data: GPUBuffer, rows: number, n: number, inverse: boolean): GPUBuffer {
  let from = data;
  let to = be.createBuffer(rows * n * 8);
  const table = twiddleTable(be, n);
  for (let span = 1; span < n; span *= 2) {
    be.dispatch({
      program: program('fftPass', fftPassSource),
      params: [(rows * n) / 2, n, span, inverse ? 1 : 0],
      buffers: [from, table, to],
      workgroups: grid((rows * n) / 2, 256),
    });
    [from, to] = [to, from];
  }
  be.releaseBuffer(to);
  return from;
}

export function registerWebGpuKernels(): void {
  registerDataMovement();
  registerElementwise();
  registerReductions();
  registerMatmul();
  registerNn();
}
