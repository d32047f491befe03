import { engine } from '../engine';
import { broadcastShapes, sameShape } from '../shape';
import type { Tensor } from '../tensor';
import { scalar } from './creation';
import { sum } from './reduce';
import { reshape } from './shape';
import { assertFloat, run1 } from './util';

type Operand = Tensor | number;

/** Numbers become scalar tensors on the other operand's backend. */
function operands(op: string, a: Operand, b: Operand): [Tensor, Tensor] {
  const ta = typeof a === 'number' ? scalar(a) : a;
  const tb = typeof b === 'number' ? scalar(b) : b;
  assertFloat(op, 'a', ta);
  assertFloat(op, 'b', tb);
  broadcastShapes(op, ta.shape, tb.shape);
  return [ta, tb];
}

/** Sums a broadcast gradient back down to `shape`. */
export function unbroadcast(dy: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(dy.shape, shape)) return dy;
  const lead = dy.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < dy.rank; i++) if (i < lead || (shape[i - lead] === 1 && dy.shape[i] !== 1)) axes.push(i);
  return reshape(sum(dy, axes), shape);
}

/** `x` repeated along broadcast axes to `shape`. */
export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  broadcastShapes('broadcastTo', x.shape, shape);
  if (sameShape(x.shape, shape)) return reshape(x, shape);
  return run1('broadcastTo', [x], { shape: [...shape] });
}
engine.registerGradient('broadcastTo', ([dy], { inputs: [x] }) => [unbroadcast(dy, x.shape)]);

export function add(a: Operand, b: Operand): Tensor {
  return run1('add', operands('add', a, b));
}
engine.registerGradient('add', ([dy], { inputs: [a, b] }) => [unbroadcast(dy, a.shape), unbroadcast(dy, b.shape)]);

export function sub(a: Operand, b: Operand): Tensor {
  return run1('sub', operands('sub', a, b));
}
engine.registerGradient('sub', ([dy], { inputs: [a, b] }) => [unbroadcast(dy, a.shape), unbroadcast(neg(dy), b.shape)]);

export function mul(a: Operand, b: Operand): Tensor {
  return run1('mul', operands('mul', a, b));
}
engine.registerGradient('mul', ([dy], { inputs: [a, b] }) => [unbroadcast(mul(dy, b), a.shape), unbroadcast(mul(dy, a), b.shape)]);

export function div(a: Operand, b: Operand): Tensor {
  return run1('div', operands('div', a, b));
}
engine.registerGradient('div', ([dy], { inputs: [a, b] }) => [
  unbroadcast(div(dy, b), a.shape),
  unbroadcast(neg(div(mul(dy, a), mul(b, b))), b.shape),
]);

export function neg(x: Tensor): Tensor {
  assertFloat('neg', 'x', x);
  return run1('neg', [x]);
}
engine.registerGradient('neg', ([dy]) => [neg(dy)]);

export function exp(x: Tensor): Tensor {
  assertFloat('exp', 'x', x);
  return run1('exp', [x]);
}
engine.registerGradient('exp', ([dy], { outputs: [y] }) => [mul(dy, y)]);

export function log(x: Tensor): Tensor {
  assertFloat('log', 'x', x);
  return run1('log', [x]);
}
engine.registerGradient('log', ([dy], { inputs: [x] }) => [div(dy, x)]);
