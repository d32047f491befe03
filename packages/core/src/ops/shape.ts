import { isDType, type DType } from '../dtype';
import { engine } from '../engine';
import { DTypeError, ShapeError, ValueError, shapeStr } from '../errors';
import { assertShape, broadcastShapes, normalizeAxes, sameShape, sizeOf } from '../shape';
import type { Tensor } from '../tensor';
import { unbroadcast } from './arithmetic';
import { scalarLike } from './creation';
import { assertFloat, assertInt, run1 } from './util';

// reshape shares the data (no copy) on every backend: the kernel only changes the shape.
engine.registerKernel('reshape', '*', ([x], attrs) => ({ dataId: x.dataId, shape: attrs.shape as number[], dtype: x.dtype }));

/** The same data with another shape; one dimension may be -1 (inferred). */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const inferAt = shape.indexOf(-1);
  let target = [...shape];
  if (inferAt >= 0) {
    const known = sizeOf(shape.filter((_, i) => i !== inferAt));
    if (known === 0 || x.size % known !== 0) {
      throw new ShapeError('reshape', `cannot infer -1 in ${shapeStr(shape)} for ${x.size} elements ${shapeStr(x.shape)}`);
    }
    target[inferAt] = x.size / known;
  }
  assertShape('reshape', target);
  if (sizeOf(target) !== x.size) {
    throw new ShapeError('reshape', `cannot reshape ${shapeStr(x.shape)} (${x.size} elements) to ${shapeStr(target)}`);
  }
  target = target.map(Number);
  return run1('reshape', [x], { shape: target });
}
engine.registerGradient('reshape', ([dy], { inputs: [x] }) => [reshape(dy, x.shape)]);

/** Axes reordered: output axis i is input axis perm[i]; by default the axes reversed. */
export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  const order = perm ? perm.map((p) => (p < 0 ? p + x.rank : p)) : x.shape.map((_, i) => x.rank - 1 - i);
  const valid = order.length === x.rank && order.every((p) => Number.isInteger(p) && p >= 0 && p < x.rank) && new Set(order).size === x.rank;
  if (!valid) {
    throw new ShapeError('transpose', `perm ${JSON.stringify(perm)} is not a permutation of the ${x.rank} axes of x ${shapeStr(x.shape)}`);
  }
  if (order.every((p, i) => p === i)) return reshape(x, x.shape);
  return run1('transpose', [x], { perm: order });
}
engine.registerGradient('transpose', ([dy], { attrs }) => {
  const perm = attrs.perm as number[];
  return [transpose(dy, perm.map((_, i) => perm.indexOf(i)))];
});

/** The block of x starting at `begin` with `size` (-1: to the end) along each axis. */
export function slice(x: Tensor, begin: readonly number[], size?: readonly number[]): Tensor {
  const fail = (why: string) =>
    new ShapeError('slice', `begin ${JSON.stringify(begin)}, size ${JSON.stringify(size)} do not fit x ${shapeStr(x.shape)}: ${why}`);
  if (begin.length !== x.rank || (size && size.length !== x.rank)) throw fail(`expected ${x.rank} entries each`);
  const sizes = x.shape.map((d, i) => {
    const b = begin[i];
    const s = size ? size[i] : -1;
    if (!Number.isInteger(b) || b < 0 || b > d) throw fail(`begin ${b} of axis ${i} is outside [0, ${d}]`);
    const n = s === -1 ? d - b : s;
    if (!Number.isInteger(n) || n < 0 || b + n > d) throw fail(`size ${s} of axis ${i} runs past ${d}`);
    return n;
  });
  return run1('slice', [x], { begin: [...begin], size: sizes });
}
engine.registerGradient('slice', ([dy], { inputs: [x], attrs }) => {
  const begin = attrs.begin as number[];
  const size = attrs.size as number[];
  return [pad(dy, x.shape.map((d, i) => [begin[i], d - begin[i] - size[i]] as [number, number]))];
});

/**
 * Cuts x along `axis` into consecutive pieces of `sizes` (which add up to that axis), as torch.split with a
 * list: one kernel for all the pieces where slicing would take one per piece.
 */
export function split(x: Tensor, sizes: readonly number[], axis: number): Tensor[] {
  const [a] = normalizeAxes('split', axis, x.rank);
  const total = sizes.reduce((n, k) => n + k, 0);
  if (sizes.length === 0 || sizes.some((k) => !Number.isInteger(k) || k < 0) || total !== x.shape[a]) {
    throw new ShapeError('split', `sizes ${JSON.stringify(sizes)} must be non-negative integers adding up to axis ${a} of x ${shapeStr(x.shape)} (${x.shape[a]})`);
  }
  return engine.runKernel('split', [x], { axis: a, sizes: [...sizes] });
}
engine.registerGradient('split', (dys, { attrs }) => [concat(dys, attrs.axis as number)]);

/** Joins tensors along an existing axis; every other axis must agree. */
export function concat(xs: readonly Tensor[], axis: number): Tensor {
  if (xs.length === 0) throw new ShapeError('concat', 'expected at least one tensor');
  const first = xs[0];
  const [a] = normalizeAxes('concat', axis, first.rank);
  for (const [k, t] of xs.entries()) {
    if (t.dtype !== first.dtype) throw new DTypeError('concat', `input ${k} is ${t.dtype} but input 0 is ${first.dtype}`);
    if (t.rank !== first.rank || t.shape.some((d, i) => i !== a && d !== first.shape[i])) {
      throw new ShapeError(
        'concat',
        `input ${k} ${shapeStr(t.shape)} does not match input 0 ${shapeStr(first.shape)} on the axes other than ${a}`,
      );
    }
  }
  if (xs.length === 1) return reshape(first, first.shape);
  return run1('concat', xs, { axis: a });
}
engine.registerGradient('concat', ([dy], { inputs, attrs }) => {
  const axis = attrs.axis as number;
  let start = 0;
  return inputs.map((t) => {
    const begin = t.shape.map((_, i) => (i === axis ? start : 0));
    start += t.shape[axis];
    return slice(dy, begin, t.shape);
  });
});

/** Joins same-shaped tensors along a new axis at position `axis`. */
export function stack(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new ShapeError('stack', 'expected at least one tensor');
  const shape = xs[0].shape;
  for (const [k, t] of xs.entries()) {
    if (!sameShape(t.shape, shape)) throw new ShapeError('stack', `input ${k} ${shapeStr(t.shape)} differs from input 0 ${shapeStr(shape)}`);
  }
  const [a] = normalizeAxes('stack', axis, shape.length + 1);
  const expanded = [...shape.slice(0, a), 1, ...shape.slice(a)];
  return concat(xs.map((t) => reshape(t, expanded)), a);
}

/** Constant padding: paddings[i] = [before, after] for axis i. */
export function pad(x: Tensor, paddings: readonly (readonly [number, number])[], value = 0): Tensor {
  const ok = paddings.length === x.rank && paddings.every((p) => p.length === 2 && p.every((n) => Number.isInteger(n) && n >= 0));
  if (!ok) {
    throw new ShapeError('pad', `paddings ${JSON.stringify(paddings)} must be ${x.rank} pairs of non-negative integers for x ${shapeStr(x.shape)}`);
  }
  if (typeof value !== 'number') throw new ValueError('pad', `value must be a number, got ${String(value)}`);
  return run1('pad', [x], { paddings: paddings.map((p) => [p[0], p[1]]), value });
}
engine.registerGradient('pad', ([dy], { inputs: [x], attrs }) => {
  const paddings = attrs.paddings as [number, number][];
  return [slice(dy, paddings.map((p) => p[0]), x.shape)];
});

/** Picks slices of x along `axis` at `indices` (int32): shape x[:axis] + indices.shape + x[axis+1:]. */
export function gather(x: Tensor, indices: Tensor, axis = 0): Tensor {
  assertInt('gather', 'indices', indices);
  const [a] = normalizeAxes('gather', axis, x.rank);
  return run1('gather', [x, indices], { axis: a });
}
engine.registerGradient('gather', ([dy], { inputs: [x, indices], attrs }) => [scatterAdd(dy, indices, x.shape, attrs.axis as number), null]);

/**
 * The adjoint of gather: a zero tensor of `shape` with each slice of `updates` added at its index
 * along `axis` (repeated indices add up).
 */
export function scatterAdd(updates: Tensor, indices: Tensor, shape: readonly number[], axis = 0): Tensor {
  assertFloat('scatterAdd', 'updates', updates);
  assertInt('scatterAdd', 'indices', indices);
  const [a] = normalizeAxes('scatterAdd', axis, shape.length);
  const expected = [...shape.slice(0, a), ...indices.shape, ...shape.slice(a + 1)];
  if (!sameShape(updates.shape, expected)) {
    throw new ShapeError('scatterAdd', `updates ${shapeStr(updates.shape)} must have shape ${shapeStr(expected)} for indices ${shapeStr(indices.shape)} into ${shapeStr(shape)} along axis ${a}`);
  }
  return run1('scatterAdd', [updates, indices], { axis: a, shape: [...shape] });
}
engine.registerGradient('scatterAdd', ([dy], { inputs: [, indices], attrs }) => [gather(dy, indices, attrs.axis as number), null]);

/** Rows of `table` [V, D] at `ids` (int32): shape ids.shape + [D]. */
export function embedding(table: Tensor, ids: Tensor): Tensor {
  if (table.rank !== 2) throw new ShapeError('embedding', `table must be [vocab, dim], got ${shapeStr(table.shape)}`);
  return gather(table, ids, 0);
}

/** cond ≠ 0 picks a, else b; all three broadcast. cond is int32, a and b share a dtype. */
export function where(cond: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  assertInt('where', 'cond', cond);
  // Number operands become scalars on cond's backend, freed after the op (the tape keeps them while needed).
  const ta = typeof a === 'number' ? scalarLike(a, typeof b === 'number' ? cond : b, typeof b === 'number' ? 'float32' : b.dtype) : a;
  const tb = typeof b === 'number' ? scalarLike(b, cond, ta.dtype) : b;
  try {
    if (ta.dtype !== tb.dtype) throw new DTypeError('where', `a is ${ta.dtype} ${shapeStr(ta.shape)} but b is ${tb.dtype} ${shapeStr(tb.shape)}`);
    const shape = broadcastShapes('where', broadcastShapes('where', cond.shape, ta.shape), tb.shape);
    return run1('where', [cond, ta, tb], { shape });
  } finally {
    if (ta !== a) ta.dispose();
    if (tb !== b) tb.dispose();
  }
}
engine.registerGradient('where', ([dy], { inputs: [cond, a, b] }) => [
  null,
  unbroadcast(where(cond, dy, 0), a.shape),
  unbroadcast(where(cond, 0, dy), b.shape),
]);

/** float32 ↔ int32; float → int truncates toward zero (like torch). */
export function cast(x: Tensor, dtype: DType): Tensor {
  if (!isDType(dtype)) throw new DTypeError('cast', `unknown dtype ${JSON.stringify(dtype)} for x ${shapeStr(x.shape)}`);
  if (dtype === x.dtype) return reshape(x, x.shape);
  return run1('cast', [x], { dtype });
}
// Gradients do not cross an integer cast.
engine.registerGradient('cast', () => [null]);

/** float32 one-hot rows [...indices.shape, depth]; indices outside [0, depth) give zero rows. */
export function oneHot(indices: Tensor, depth: number): Tensor {
  assertInt('oneHot', 'indices', indices);
  if (!Number.isInteger(depth) || depth < 0) throw new ValueError('oneHot', `depth must be a non-negative integer, got ${depth}`);
  return run1('oneHot', [indices], { depth });
}
engine.registerGradient('oneHot', () => [null]);
