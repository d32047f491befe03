import { engine } from '../engine';
import { ShapeError, shapeStr } from '../errors';
import { normalizeAxes, sizeOf } from '../shape';
import type { Tensor } from '../tensor';
import { broadcastTo, div, exp, mul, sub } from './arithmetic';
import { oneHot, reshape, transpose } from './shape';
import { assertFloat, run1 } from './util';

export interface ReduceOptions {
  keepDims?: boolean;
}

type Axes = number | readonly number[];

function reduceOp(name: string, x: Tensor, axes: Axes | undefined, options: ReduceOptions): Tensor {
  assertFloat(name, 'x', x);
  return run1(name, [x], { axes: normalizeAxes(name, axes, x.rank), keepDims: options.keepDims ?? false });
}

/** dy of a reduction brought back to x's shape: reduced axes put back as size 1, then broadcast. */
function expandToInput(dy: Tensor, x: Tensor, axes: readonly number[]): Tensor {
  const kept = reshape(dy, x.shape.map((d, i) => (axes.includes(i) ? 1 : d)));
  return broadcastTo(kept, x.shape);
}

/** Sum over `axes` (all when omitted). */
export function sum(x: Tensor, axes?: Axes, options: ReduceOptions = {}): Tensor {
  return reduceOp('sum', x, axes, options);
}
engine.registerGradient('sum', ([dy], { inputs: [x], attrs }) => [expandToInput(dy, x, attrs.axes as number[])]);

/** Mean over `axes` (all when omitted). */
export function mean(x: Tensor, axes?: Axes, options: ReduceOptions = {}): Tensor {
  return reduceOp('mean', x, axes, options);
}
engine.registerGradient('mean', ([dy], { inputs: [x], attrs }) => {
  const axes = attrs.axes as number[];
  const count = sizeOf(axes.map((a) => x.shape[a]));
  return [div(expandToInput(dy, x, axes), count)];
});

/** Maximum over `axes`; the gradient goes to the first maximum of each reduced group. */
export function max(x: Tensor, axes?: Axes, options: ReduceOptions = {}): Tensor {
  return reduceOp('max', x, axes, options);
}
engine.registerGradient('max', ([dy], { inputs: [x], attrs }) => {
  // Move the reduced axes last and flatten them, so one argmax finds the first maximum of each group.
  const axes = attrs.axes as number[];
  const keptAxes = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const perm = [...keptAxes, ...axes];
  const moved = transpose(x, perm);
  const groups = sizeOf(keptAxes.map((a) => x.shape[a]));
  const groupSize = sizeOf(axes.map((a) => x.shape[a]));
  const flat = reshape(moved, [groups, groupSize]);
  const mask = oneHot(argmax(flat, 1), groupSize);
  const dFlat = mul(mask, reshape(dy, [groups, 1]));
  const inverse = perm.map((_, i) => perm.indexOf(i));
  return [transpose(reshape(dFlat, moved.shape), inverse)];
});

/** log Σ exp(x) over `axes`, computed stably. */
export function logsumexp(x: Tensor, axes?: Axes, options: ReduceOptions = {}): Tensor {
  return reduceOp('logsumexp', x, axes, options);
}
engine.registerGradient('logsumexp', ([dy], { inputs: [x], outputs: [y], attrs }) => {
  // d/dx = softmax over the reduced axes = exp(x − y).
  const axes = attrs.axes as number[];
  return [mul(expandToInput(dy, x, axes), exp(sub(x, expandToInput(y, x, axes))))];
});

/** Index of the first maximum along `axis` (int32; the axis is removed). Not differentiable. */
export function argmax(x: Tensor, axis: number): Tensor {
  assertFloat('argmax', 'x', x);
  if (typeof axis !== 'number') throw new ShapeError('argmax', `axis must be a number, got ${String(axis)} for x ${shapeStr(x.shape)}`);
  const [a] = normalizeAxes('argmax', axis, x.rank);
  if (x.shape[a] === 0) throw new ShapeError('argmax', `axis ${axis} of x ${shapeStr(x.shape)} is empty`);
  return run1('argmax', [x], { axis: a });
}
engine.registerGradient('argmax', () => [null]);
