import { allocArray, type TypedArray } from '../../dtype';
import { ValueError } from '../../errors';
import { sizeOf, stridesOf } from '../../shape';
import { broadcastStrides, register } from './kernels';

/**
 * Kernels that move data without arithmetic: transpose, slice, concat, pad, gather (and its adjoint
 * scatterAdd), where, cast, oneHot. They keep the input dtype unless they say otherwise.
 */
export function registerShapeKernels(): void {
  // out[i₀…] = x[i at perm]: walk the output in order, moving the input offset by permuted strides.
  register('transpose', ([a], attrs, be) => {
    const perm = attrs.perm as number[];
    const x = be.values<TypedArray>(a);
    const inStrides = stridesOf(a.shape);
    const outShape = perm.map((p) => a.shape[p]);
    const strides = perm.map((p) => inStrides[p]);
    const out = allocArray(a.dtype, x.length);
    walk(outShape, strides, 0, (i, offset) => {
      out[i] = x[offset];
    });
    return be.output(outShape, a.dtype, out);
  });

  register('slice', ([a], attrs, be) => {
    const begin = attrs.begin as number[];
    const size = attrs.size as number[];
    const x = be.values<TypedArray>(a);
    const strides = stridesOf(a.shape);
    let start = 0;
    for (let d = 0; d < begin.length; d++) start += begin[d] * strides[d];
    const out = allocArray(a.dtype, sizeOf(size));
    walk(size, strides, start, (i, offset) => {
      out[i] = x[offset];
    });
    return be.output(size, a.dtype, out);
  });

  // concat run backwards: each piece takes a block of sizes[k]·inner per outer index.
  register('split', ([a], attrs, be) => {
    const axis = attrs.axis as number;
    const sizes = attrs.sizes as number[];
    const x = be.values<TypedArray>(a);
    const outer = sizeOf(a.shape.slice(0, axis));
    const inner = sizeOf(a.shape.slice(axis + 1));
    const rowLength = a.shape[axis] * inner;
    let column = 0;
    return sizes.map((size) => {
      const shape = a.shape.map((d, i) => (i === axis ? size : d));
      const out = allocArray(a.dtype, sizeOf(shape));
      const block = size * inner;
      for (let o = 0; o < outer; o++) out.set(x.subarray(o * rowLength + column, o * rowLength + column + block), o * block);
      column += block;
      return be.output(shape, a.dtype, out);
    });
  });

  // Inputs share every axis but `axis`; each contributes a block of shape[axis]·inner per outer index.
  register('concat', (inputs, attrs, be) => {
    const axis = attrs.axis as number;
    const first = inputs[0];
    const outShape = [...first.shape];
    outShape[axis] = inputs.reduce((n, t) => n + t.shape[axis], 0);
    const outer = sizeOf(first.shape.slice(0, axis));
    const inner = sizeOf(first.shape.slice(axis + 1));
    const rowLength = outShape[axis] * inner;
    const out = allocArray(first.dtype, sizeOf(outShape));
    let column = 0;
    for (const t of inputs) {
      const x = be.values<TypedArray>(t);
      const block = t.shape[axis] * inner;
      for (let o = 0; o < outer; o++) out.set(x.subarray(o * block, (o + 1) * block), o * rowLength + column);
      column += block;
    }
    return be.output(outShape, first.dtype, out);
  });

  register('pad', ([a], attrs, be) => {
    const paddings = attrs.paddings as [number, number][];
    const x = be.values<TypedArray>(a);
    const outShape = a.shape.map((d, i) => paddings[i][0] + d + paddings[i][1]);
    const out = allocArray(a.dtype, sizeOf(outShape));
    out.fill(attrs.value as number);
    const outStrides = stridesOf(outShape);
    let start = 0;
    for (let d = 0; d < a.shape.length; d++) start += paddings[d][0] * outStrides[d];
    // Walk the input; its element i lands at `offset` in the output.
    walk(a.shape, outStrides, start, (i, offset) => {
      out[offset] = x[i];
    });
    return be.output(outShape, a.dtype, out);
  });

  register('gather', ([a, idx], attrs, be) => {
    const axis = attrs.axis as number;
    const x = be.values<TypedArray>(a);
    const indices = be.values<Int32Array>(idx);
    const { outer, count, inner } = gatherDims(a.shape, axis);
    checkIndices('gather', indices, count);
    const out = allocArray(a.dtype, outer * indices.length * inner);
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < indices.length; j++) {
        const from = (o * count + indices[j]) * inner;
        out.set(x.subarray(from, from + inner), (o * indices.length + j) * inner);
      }
    }
    return be.output([...a.shape.slice(0, axis), ...idx.shape, ...a.shape.slice(axis + 1)], a.dtype, out);
  });

  // The adjoint of gather: out (attrs.shape) is zero, then each slice of `updates` is added at its index.
  register('scatterAdd', ([u, idx], attrs, be) => {
    const axis = attrs.axis as number;
    const shape = attrs.shape as number[];
    const updates = be.values(u);
    const indices = be.values<Int32Array>(idx);
    const { outer, count, inner } = gatherDims(shape, axis);
    checkIndices('scatterAdd', indices, count);
    const out = new Float32Array(sizeOf(shape));
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < indices.length; j++) {
        const from = (o * indices.length + j) * inner;
        const to = (o * count + indices[j]) * inner;
        for (let k = 0; k < inner; k++) out[to + k] += updates[from + k];
      }
    }
    return be.output(shape, 'float32', out);
  });

  register('where', ([c, a, b], attrs, be) => {
    const shape = attrs.shape as number[];
    const cond = be.values<Int32Array>(c);
    const x = be.values<TypedArray>(a);
    const y = be.values<TypedArray>(b);
    const out = allocArray(a.dtype, sizeOf(shape));
    const sc = broadcastStrides(c.shape, shape);
    const sa = broadcastStrides(a.shape, shape);
    const sb = broadcastStrides(b.shape, shape);
    const idx = new Array<number>(shape.length).fill(0);
    let ic = 0;
    let ia = 0;
    let ib = 0;
    for (let i = 0; i < out.length; i++) {
      out[i] = cond[ic] !== 0 ? x[ia] : y[ib];
      for (let d = shape.length - 1; d >= 0; d--) {
        idx[d]++;
        ic += sc[d];
        ia += sa[d];
        ib += sb[d];
        if (idx[d] < shape[d]) break;
        ic -= sc[d] * shape[d];
        ia -= sa[d] * shape[d];
        ib -= sb[d] * shape[d];
        idx[d] = 0;
      }
    }
    return be.output(shape, a.dtype, out);
  });

  // Int32Array assignment truncates toward zero (NaN → 0), as torch's float→int cast does for finite values.
  register('cast', ([a], attrs, be) => {
    const dtype = attrs.dtype as 'float32' | 'int32';
    const out = allocArray(dtype, sizeOf(a.shape));
    out.set(be.values<TypedArray>(a));
    return be.output(a.shape, dtype, out);
  });

  // Rows for indices outside [0, depth) stay zero.
  register('oneHot', ([idx], attrs, be) => {
    const depth = attrs.depth as number;
    const indices = be.values<Int32Array>(idx);
    const out = new Float32Array(indices.length * depth);
    for (let i = 0; i < indices.length; i++) {
      const k = indices[i];
      if (k >= 0 && k < depth) out[i * depth + k] = 1;
    }
    return be.output([...idx.shape, depth], 'float32', out);
  });
}

/**
 * Visits every index of `shape` in row-major order, calling `visit(i, offset)` with the flat position
 * i and offset = start + Σ index[d]·strides[d]. The innermost axis runs as a plain loop.
 */
export function walk(shape: readonly number[], strides: readonly number[], start: number, visit: (i: number, offset: number) => void): void {
  const n = sizeOf(shape);
  if (n === 0) return;
  const rank = shape.length;
  if (rank === 0) {
    visit(0, start);
    return;
  }
  const last = shape[rank - 1];
  const lastStride = strides[rank - 1];
  const idx = new Array<number>(rank).fill(0);
  let base = start;
  for (let i = 0; i < n; i += last) {
    for (let k = 0; k < last; k++) visit(i + k, base + k * lastStride);
    for (let d = rank - 2; d >= 0; d--) {
      idx[d]++;
      base += strides[d];
      if (idx[d] < shape[d]) break;
      base -= strides[d] * shape[d];
      idx[d] = 0;
    }
  }
}

function gatherDims(shape: readonly number[], axis: number) {
  return { outer: sizeOf(shape.slice(0, axis)), count: shape[axis], inner: sizeOf(shape.slice(axis + 1)) };
}

/** Indices are data, so only the kernel can check them. */
function checkIndices(op: string, indices: Int32Array, count: number): void {
  for (let j = 0; j < indices.length; j++) {
    if (indices[j] < 0 || indices[j] >= count) {
      throw new ValueError(op, `index ${indices[j]} at position ${j} is out of range [0, ${count})`);
    }
  }
}
