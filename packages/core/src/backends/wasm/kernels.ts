import type { Attrs, KernelFn, TensorInfo } from '../../backend';
import { engine } from '../../engine';
import { ValueError } from '../../errors';
import { broadcastShapes, sizeOf, stridesOf } from '../../shape';
import { broadcastStrides, matmulBatchOffsets } from '../cpu/kernels';
import type { WasmBackend } from './backend';

type WasmKernel = (inputs: readonly TensorInfo[], attrs: Attrs, backend: WasmBackend) => TensorInfo | TensorInfo[];

function register(name: string, fn: WasmKernel): void {
  engine.registerKernel(name, 'wasm', fn as KernelFn);
}

/** Runs the op's cpu kernel on views of the memory: for the cases a wasm kernel does not cover. */
function fallback(name: string, inputs: readonly TensorInfo[], attrs: Attrs, be: WasmBackend): TensorInfo | TensorInfo[] {
  return be.fallbackKernel(name)!(inputs, attrs, be);
}

// Op codes of assembly/elementwise.ts and assembly/reduce.ts.
export const UNARY_OPS = ['neg', 'exp', 'log', 'sqrt', 'rsqrt', 'abs', 'tanh', 'sigmoid', 'silu', 'square', 'softplus', 'sign'] as const;
export const BINARY_OPS = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum'] as const;
export const REDUCE_OPS = ['sum', 'mean', 'max', 'logsumexp'] as const;

/**
 * Below these sizes a kernel runs on one thread: waking a worker costs ~10–20 µs. Memory-bound ops
 * (copies, add, mul, neg) gain little from a second core and need more work to pay for it than
 * exp-heavy ones.
 */
const PARALLEL_ELEMENTS = 1 << 17;
const PARALLEL_TRANSCENDENTAL = 1 << 14;
const PARALLEL_FLOPS = 1 << 21;
const CHEAP_UNARY = new Set(['neg', 'abs', 'square', 'sign', 'sqrt', 'rsqrt']);

/** Splits [0, n) into `parts` ranges aligned to `align`; empty ranges come back as null. */
function range(n: number, part: number, parts: number, align = 4): [number, number] | null {
  const chunk = Math.ceil(n / parts / align) * align;
  const start = Math.min(n, part * chunk);
  const end = Math.min(n, start + chunk);
  return end > start ? [start, end] : null;
}

/**
 * The broadcast iteration of an elementwise op in few dims: size-1 dims dropped and neighbours
 * merged where both inputs stay contiguous across them (same shape → 1 dim, scalar → 1 dim).
 */
function mergeDims(outShape: readonly number[], sa: readonly number[], sb: readonly number[]) {
  const shape: number[] = [];
  const as: number[] = [];
  const bs: number[] = [];
  for (let d = 0; d < outShape.length; d++) {
    const n = outShape[d];
    if (n === 1) continue;
    const last = shape.length - 1;
    if (last >= 0 && as[last] === sa[d] * n && bs[last] === sb[d] * n) {
      shape[last] *= n;
      as[last] = sa[d];
      bs[last] = sb[d];
    } else {
      shape.push(n);
      as.push(sa[d]);
      bs.push(sb[d]);
    }
  }
  if (shape.length === 0) return { shape: [1], as: [0], bs: [0] };
  return { shape, as, bs };
}

function registerElementwise(): void {
  UNARY_OPS.forEach((name, op) =>
    register(name, ([x], _attrs, be) => {
      const out = be.output(x.shape);
      const n = sizeOf(x.shape);
      const px = be.ptr(x);
      const po = be.ptr(out);
      const threshold = CHEAP_UNARY.has(name) ? PARALLEL_ELEMENTS : PARALLEL_TRANSCENDENTAL;
      be.parallel('unary', n >= threshold ? be.threads : 1, (part, parts) => {
        const r = range(n, part, parts);
        return r && [op, px + r[0] * 4, po + r[0] * 4, r[1] - r[0]];
      });
      return out;
    }),
  );

  BINARY_OPS.forEach((name, op) =>
    register(name, ([a, b], _attrs, be) => {
      const outShape = broadcastShapes(name, a.shape, b.shape);
      const out = be.output(outShape);
      const n = sizeOf(outShape);
      if (n === 0) return out;
      const { shape, as, bs } = mergeDims(outShape, broadcastStrides(a.shape, outShape), broadcastStrides(b.shape, outShape));
      const rank = shape.length;
      const inner = sizeOf(shape.slice(1));
      const pa = be.ptr(a);
      const pb = be.ptr(b);
      const po = be.ptr(out);
      // Parts split the outermost merged dim (or the only one).
      const split = rank === 1 ? 4 : 1;
      be.parallel('binary', n >= PARALLEL_ELEMENTS ? be.threads : 1, (part, parts) => {
        const r = range(shape[0], part, parts, split);
        if (!r) return null;
        const [s, e] = r;
        const meta = be.meta(part, [e - s, ...shape.slice(1), ...as, ...bs]);
        return [op, pa + s * as[0] * 4, pb + s * bs[0] * 4, po + s * inner * 4, rank, meta, meta + rank * 4, meta + 2 * rank * 4, meta + 3 * rank * 4];
      });
      return out;
    }),
  );

  register('cast', ([x], attrs, be) => {
    const dtype = attrs.dtype as 'float32' | 'int32';
    const out = be.output(x.shape, dtype);
    const n = sizeOf(x.shape);
    if (x.dtype === dtype) be.view(out).set(be.view(x));
    else if (dtype === 'int32') be.core.castF32ToI32(be.ptr(x), be.ptr(out), n);
    else be.core.castI32ToF32(be.ptr(x), be.ptr(out), n);
    return out;
  });
}

function registerReductions(): void {
  REDUCE_OPS.forEach((name, op) =>
    register(name, ([x], attrs, be) => {
      const axes = attrs.axes as number[];
      const outShape = attrs.keepDims === true ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
      const out = be.output(outShape);
      if (sizeOf(outShape) === 0) return out;
      if (axes.length === 0) {
        // Nothing reduced: a copy.
        be.view(out).set(be.view(x));
        return out;
      }
      const contiguous = axes.every((a, i) => i === 0 || a === axes[i - 1] + 1);
      if (contiguous) {
        // x as [outer, reduced, inner].
        const first = axes[0];
        const last = axes[axes.length - 1];
        be.core.reduce(op, be.ptr(x), be.ptr(out), sizeOf(x.shape.slice(0, first)), sizeOf(x.shape.slice(first, last + 1)), sizeOf(x.shape.slice(last + 1)));
        return out;
      }
      // Scattered axes: move the reduced axes last (one strided copy), then reduce rows.
      const kept = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
      const perm = [...kept, ...axes];
      const permuted = be.output(perm.map((p) => x.shape[p]));
      const strides = stridesOf(x.shape);
      copy(be, be.ptr(x), be.ptr(permuted), permuted.shape, perm.map((p) => strides[p]), stridesOf(permuted.shape));
      const red = sizeOf(axes.map((a) => x.shape[a]));
      be.core.reduce(op, be.ptr(permuted), be.ptr(out), sizeOf(outShape), red, 1);
      be.free(permuted.dataId);
      return out;
    }),
  );
}

function registerMatmul(): void {
  register('matmul', ([a, b], attrs, be) => {
    const { transposeA, transposeB, outShape } = attrs as { transposeA: boolean; transposeB: boolean; outShape: number[] };
    const rank = outShape.length;
    const M0 = outShape[rank - 2];
    const N = outShape[rank - 1];
    const K = transposeA ? a.shape[a.shape.length - 2] : a.shape[a.shape.length - 1];
    const out = be.output(outShape);
    // Transposes become strides: A(i,k) = a[i·rsA + k·csA], B(k,j) = b[k·rsB + j·csB].
    const [rsA, csA] = transposeA ? [1, M0] : [K, 1];
    const [rsB, csB] = transposeB ? [1, K] : [N, 1];
    let batchShape = outShape.slice(0, rank - 2);
    let sa = broadcastStrides(a.shape.slice(0, -2), batchShape);
    let sb = broadcastStrides(b.shape.slice(0, -2), batchShape);
    let M = M0;
    // One B for every batch element and A's rows stacked (x·W of a Linear layer on [batch, L, D]):
    // one product of batch·M rows, so B is packed once and threads get more rows.
    if (!transposeA && sb.every((s) => s === 0) && sizeOf(a.shape.slice(0, -2)) === sizeOf(batchShape)) {
      M = M0 * sizeOf(batchShape);
      batchShape = [];
      sa = [];
      sb = [];
    }
    const batch = sizeOf(batchShape);
    const parts = M * N * K >= PARALLEL_FLOPS && (M >= 8 || M === 1) ? be.threads : 1;
    for (let bi = 0; bi < batch; bi++) {
      const [offA, offB] = matmulBatchOffsets(bi, batchShape, sa, sb, M * K, K * N);
      const pa = be.ptr(a) + offA * 4;
      const pb = be.ptr(b) + offB * 4;
      const pc = be.ptr(out) + bi * M * N * 4;
      if (M === 1) {
        // A single row (decoding): threads take bands of columns instead; one row has no row stride.
        be.parallel('matmul', parts, (part, n) => {
          const r = range(N, part, n);
          if (!r) return null;
          const [j0, j1] = r;
          return [pa, pb + j0 * csB * 4, pc + j0 * 4, 1, j1 - j0, K, rsA, csA, rsB, csB, be.scratchOf(part)];
        });
        continue;
      }
      // Threads take bands of rows (multiples of the 4-row micro-tile).
      be.parallel('matmul', parts, (part, n) => {
        const r = range(M, part, n);
        if (!r) return null;
        const [i0, i1] = r;
        return [pa + i0 * rsA * 4, pb, pc + i0 * N * 4, i1 - i0, N, K, rsA, csA, rsB, csB, be.scratchOf(part)];
      });
    }
    return out;
  });
}

function registerNn(): void {
  for (const name of ['softmax', 'logSoftmax'] as const) {
    register(name, (inputs, attrs, be) => {
      const [x] = inputs;
      const axis = attrs.axis as number;
      if (axis !== x.shape.length - 1) return fallback(name, inputs, attrs, be);
      const n = x.shape[axis];
      const rows = sizeOf(x.shape) / Math.max(1, n);
      const out = be.output(x.shape);
      if (n === 0) return out;
      const px = be.ptr(x);
      const po = be.ptr(out);
      be.parallel(name, rows * n >= PARALLEL_TRANSCENDENTAL ? be.threads : 1, (part, parts) => {
        const r = range(rows, part, parts, 1);
        return r && [px + r[0] * n * 4, po + r[0] * n * 4, r[1] - r[0], n];
      });
      return out;
    });
  }

  register('crossEntropy', ([logits, targets], attrs, be) => {
    const [N, C] = logits.shape;
    const ignoreIndex = attrs.ignoreIndex as number;
    const out = be.output([]);
    const counted = be.core.crossEntropy(be.ptr(logits), be.ptr(targets), be.ptr(out), N, C, ignoreIndex);
    if (counted < 0) {
      be.free(out.dataId);
      const row = -counted - 1;
      const target = (be.view(targets) as Int32Array)[row];
      throw new ValueError('crossEntropy', `target ${target} at row ${row} is out of range [0, ${C}) and is not ignoreIndex ${ignoreIndex}`);
    }
    return out;
  });

  register('rmsNorm', ([x, w], attrs, be) => {
    const D = w.shape[0];
    const rows = D === 0 ? 0 : sizeOf(x.shape) / D;
    const out = be.output(x.shape);
    const px = be.ptr(x);
    const pw = be.ptr(w);
    const po = be.ptr(out);
    const eps = attrs.eps as number;
    be.parallel('rmsNorm', rows * D >= PARALLEL_ELEMENTS ? be.threads : 1, (part, parts) => {
      const r = range(rows, part, parts, 1);
      return r && [px + r[0] * D * 4, pw, po + r[0] * D * 4, r[1] - r[0], D, eps];
    });
    return out;
  });

  register('conv1d', ([x, w, bias], _attrs, be) => {
    const [B, C, L] = x.shape;
    const K = w.shape[1];
    const out = be.output(x.shape);
    const px = be.ptr(x);
    const pw = be.ptr(w);
    const pbias = bias ? be.ptr(bias) : 0;
    const po = be.ptr(out);
    // Threads take channel bands (every batch row).
    be.parallel('conv1d', B * C * L >= PARALLEL_ELEMENTS ? be.threads : 1, (part, parts) => {
      const r = range(C, part, parts, 1);
      return r && [px, pw, pbias, po, B, C, L, K, r[0], r[1]];
    });
    return out;
  });
}

/** Strided copies: transpose, slice, pad, concat, broadcastTo all reduce to copyStrided. */
function copy(be: WasmBackend, src: number, dst: number, shape: readonly number[], srcStrides: readonly number[], dstStrides: readonly number[]): void {
  if (sizeOf(shape) === 0) return;
  const rank = shape.length;
  const meta = be.meta(0, [...shape, ...srcStrides, ...dstStrides]);
  be.core.copyStrided(src, dst, rank, meta, meta + rank * 4, meta + 2 * rank * 4, meta + 3 * rank * 4);
}

function registerShape(): void {
  register('transpose', ([x], attrs, be) => {
    const perm = attrs.perm as number[];
    const outShape = perm.map((p) => x.shape[p]);
    const inStrides = stridesOf(x.shape);
    const out = be.output(outShape, x.dtype);
    copy(be, be.ptr(x), be.ptr(out), outShape, perm.map((p) => inStrides[p]), stridesOf(outShape));
    return out;
  });

  register('slice', ([x], attrs, be) => {
    const begin = attrs.begin as number[];
    const size = attrs.size as number[];
    const strides = stridesOf(x.shape);
    const start = begin.reduce((s, b, d) => s + b * strides[d], 0);
    const out = be.output(size, x.dtype);
    copy(be, be.ptr(x) + start * 4, be.ptr(out), size, strides, stridesOf(size));
    return out;
  });

  register('split', ([x], attrs, be) => {
    const axis = attrs.axis as number;
    const strides = stridesOf(x.shape);
    let begin = 0;
    return (attrs.sizes as number[]).map((size) => {
      const shape = x.shape.map((d, i) => (i === axis ? size : d));
      const out = be.output(shape, x.dtype);
      copy(be, be.ptr(x) + begin * strides[axis] * 4, be.ptr(out), shape, strides, stridesOf(shape));
      begin += size;
      return out;
    });
  });

  register('pad', ([x], attrs, be) => {
    const paddings = attrs.paddings as [number, number][];
    const outShape = x.shape.map((d, i) => paddings[i][0] + d + paddings[i][1]);
    const out = be.output(outShape, x.dtype);
    const value = attrs.value as number;
    const bits = x.dtype === 'int32' ? value | 0 : new Int32Array(Float32Array.of(value).buffer)[0];
    be.core.fill32(be.ptr(out), bits, sizeOf(outShape));
    const outStrides = stridesOf(outShape);
    const start = paddings.reduce((s, [before], d) => s + before * outStrides[d], 0);
    copy(be, be.ptr(x), be.ptr(out) + start * 4, x.shape, stridesOf(x.shape), outStrides);
    return out;
  });

  register('concat', (inputs, attrs, be) => {
    const axis = attrs.axis as number;
    const first = inputs[0];
    const outShape = [...first.shape];
    outShape[axis] = inputs.reduce((n, t) => n + t.shape[axis], 0);
    const out = be.output(outShape, first.dtype);
    const outStrides = stridesOf(outShape);
    let offset = 0;
    for (const t of inputs) {
      copy(be, be.ptr(t), be.ptr(out) + offset * outStrides[axis] * 4, t.shape, stridesOf(t.shape), outStrides);
      offset += t.shape[axis];
    }
    return out;
  });

  register('broadcastTo', ([x], attrs, be) => {
    const shape = attrs.shape as number[];
    const out = be.output(shape, x.dtype);
    copy(be, be.ptr(x), be.ptr(out), shape, broadcastStrides(x.shape, shape), stridesOf(shape));
    return out;
  });

  // Written in place: the cpu kernel's [N, depth] JS array (N·vocab floats in a language model's loss
  // gradient) and its copy in are what this avoids.
  register('oneHot', ([indices], attrs, be) => {
    const depth = attrs.depth as number;
    const out = be.output([...indices.shape, depth]);
    const n = sizeOf(out.shape);
    be.core.fill32(be.ptr(out), 0, n);
    const ids = be.view(indices) as Int32Array;
    const values = be.view(out);
    for (let i = 0; i < ids.length; i++) {
      const k = ids[i];
      if (k >= 0 && k < depth) values[i * depth + k] = 1;
    }
    return out;
  });

  register('scatterAdd', ([updates, indices], attrs, be) => {
    const axis = attrs.axis as number;
    const shape = attrs.shape as number[];
    const outer = sizeOf(shape.slice(0, axis));
    const count = shape[axis];
    const inner = sizeOf(shape.slice(axis + 1));
    const out = be.output(shape);
    const bad = be.core.scatterAdd(be.ptr(updates), be.ptr(indices), be.ptr(out), outer, count, inner, sizeOf(indices.shape));
    if (bad >= 0) {
      const index = (be.view(indices) as Int32Array)[bad];
      be.free(out.dataId);
      throw new ValueError('scatterAdd', `index ${index} at position ${bad} is out of range [0, ${count})`);
    }
    return out;
  });

  register('gather', ([x, indices], attrs, be) => {
    const axis = attrs.axis as number;
    const outer = sizeOf(x.shape.slice(0, axis));
    const count = x.shape[axis];
    const inner = sizeOf(x.shape.slice(axis + 1));
    const nIdx = sizeOf(indices.shape);
    const out = be.output([...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)], x.dtype);
    const bad = be.core.gather(be.ptr(x), be.ptr(indices), be.ptr(out), outer, count, inner, nIdx);
    if (bad >= 0) {
      const index = (be.view(indices) as Int32Array)[bad];
      be.free(out.dataId);
      throw new ValueError('gather', `index ${index} at position ${bad} is out of range [0, ${count})`);
    }
    return out;
  });
}

/** The wasm kernels; ops without one run their cpu kernel on views of the memory (fallbackKernel). */
export function registerWasmKernels(): void {
  registerElementwise();
  registerReductions();
  registerMatmul();
  registerNn();
  registerShape();
}
