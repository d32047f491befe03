import { engine } from '../engine';
import { broadcastShapes, sameShape } from '../shape';
import type { Tensor } from '../tensor';
import { ValueError } from '../errors';
import { scalar, scalarLike } from './creation';
import { sum } from './reduce';
import { reshape } from './shape';
import { assertFloat, run1 } from './util';

type Operand = Tensor | number;

/** Numbers become scalar tensors on the other operand's backend. */
function operands(op: string, a: Operand, b: Operand): [Tensor, Tensor] {
  if (typeof a === 'number' && typeof b === 'number') return [scalar(a), scalar(b)];
  const ta = typeof a === 'number' ? scalarLike(a, b as Tensor, 'float32') : a;
  const tb = typeof b === 'number' ? scalarLike(b, ta, 'float32') : b;
  assertFloat(op, 'a', ta);
  assertFloat(op, 'b', tb);
  broadcastShapes(op, ta.shape, tb.shape);
  return [ta, tb];
}

/**
 * Runs a binary kernel. Scalars made for number operands are disposed right after: the op's output does
 * not need them, and while gradients are taken the tape keeps them alive until it is done.
 */
function binary(op: string, a: Operand, b: Operand): Tensor {
  const [ta, tb] = operands(op, a, b);
  try {
    return run1(op, [ta, tb]);
  } finally {
    if (ta !== a) ta.dispose();
    if (tb !== b) tb.dispose();
  }
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
  return binary('add', a, b);
}
engine.registerGradient('add', ([dy], { inputs: [a, b] }) => [unbroadcast(dy, a.shape), unbroadcast(dy, b.shape)]);

export function sub(a: Operand, b: Operand): Tensor {
  return binary('sub', a, b);
}
engine.registerGradient('sub', ([dy], { inputs: [a, b] }) => [unbroadcast(dy, a.shape), unbroadcast(neg(dy), b.shape)]);

export function mul(a: Operand, b: Operand): Tensor {
  return binary('mul', a, b);
}
engine.registerGradient('mul', ([dy], { inputs: [a, b] }) => [unbroadcast(mul(dy, b), a.shape), unbroadcast(mul(dy, a), b.shape)]);

export function div(a: Operand, b: Operand): Tensor {
  return binary('div', a, b);
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

/** An elementwise op of one float tensor. */
function unaryOp(name: string, x: Tensor, attrs: Record<string, unknown> = {}): Tensor {
  assertFloat(name, 'x', x);
  return run1(name, [x], attrs);
}

/** x ** p elementwise; p a tensor (broadcast) or a number. */
export function pow(x: Operand, p: Operand): Tensor {
  return binary('pow', x, p);
}
engine.registerGradient('pow', ([dy], { inputs: [x, p], outputs: [y] }) => [
  unbroadcast(mul(dy, mul(p, pow(x, sub(p, 1)))), x.shape),
  // d/dp x^p = x^p·log x (NaN for x < 0, as in torch; only used when p is being differentiated).
  unbroadcast(mul(dy, mul(y, log(x))), p.shape),
]);

/** Elementwise larger of a and b. At ties each side gets half the gradient (torch). */
export function maximum(a: Operand, b: Operand): Tensor {
  return binary('maximum', a, b);
}
engine.registerGradient('maximum', ([dy], { inputs: [a, b] }) => {
  // (1 + sign(a − b))/2 is 1 where a wins, 0 where b wins, ½ at ties.
  const toA = mul(add(sign(sub(a, b)), 1), 0.5);
  return [unbroadcast(mul(dy, toA), a.shape), unbroadcast(mul(dy, sub(1, toA)), b.shape)];
});

export function minimum(a: Operand, b: Operand): Tensor {
  return binary('minimum', a, b);
}
engine.registerGradient('minimum', ([dy], { inputs: [a, b] }) => {
  const toA = mul(add(sign(sub(b, a)), 1), 0.5);
  return [unbroadcast(mul(dy, toA), a.shape), unbroadcast(mul(dy, sub(1, toA)), b.shape)];
});

export function sqrt(x: Tensor): Tensor {
  return unaryOp('sqrt', x);
}
engine.registerGradient('sqrt', ([dy], { outputs: [y] }) => [div(dy, mul(y, 2))]);

/** 1/√x. */
export function rsqrt(x: Tensor): Tensor {
  return unaryOp('rsqrt', x);
}
engine.registerGradient('rsqrt', ([dy], { outputs: [y] }) => [mul(dy, mul(mul(y, mul(y, y)), -0.5))]);

export function abs(x: Tensor): Tensor {
  return unaryOp('abs', x);
}
engine.registerGradient('abs', ([dy], { inputs: [x] }) => [mul(dy, sign(x))]);

export function square(x: Tensor): Tensor {
  return unaryOp('square', x);
}
engine.registerGradient('square', ([dy], { inputs: [x] }) => [mul(dy, mul(x, 2))]);

/** −1, 0 or 1 (0 for ±0); its gradient is zero. */
export function sign(x: Tensor): Tensor {
  return unaryOp('sign', x);
}
engine.registerGradient('sign', () => [null]);

export function sin(x: Tensor): Tensor {
  return unaryOp('sin', x);
}
engine.registerGradient('sin', ([dy], { inputs: [x] }) => [mul(dy, cos(x))]);

export function cos(x: Tensor): Tensor {
  return unaryOp('cos', x);
}
engine.registerGradient('cos', ([dy], { inputs: [x] }) => [neg(mul(dy, sin(x)))]);

export function tanh(x: Tensor): Tensor {
  return unaryOp('tanh', x);
}
engine.registerGradient('tanh', ([dy], { outputs: [y] }) => [mul(dy, sub(1, mul(y, y)))]);

export function sigmoid(x: Tensor): Tensor {
  return unaryOp('sigmoid', x);
}
engine.registerGradient('sigmoid', ([dy], { outputs: [y] }) => [mul(dy, mul(y, sub(1, y)))]);

/** x·sigmoid(x). */
export function silu(x: Tensor): Tensor {
  return unaryOp('silu', x);
}
engine.registerGradient('silu', ([dy], { inputs: [x] }) => {
  // d/dx x·s = s·(1 + x·(1 − s)).
  const s = sigmoid(x);
  return [mul(dy, mul(s, add(mul(x, sub(1, s)), 1)))];
});

/** log(1 + eˣ), and x itself above 20 (PyTorch's threshold). */
export function softplus(x: Tensor): Tensor {
  return unaryOp('softplus', x);
}
// sigmoid(x) is 1 in float32 beyond the threshold, matching the identity branch's slope.
engine.registerGradient('softplus', ([dy], { inputs: [x] }) => [mul(dy, sigmoid(x))]);

/** The error function. */
export function erf(x: Tensor): Tensor {
  return unaryOp('erf', x);
}
engine.registerGradient('erf', ([dy], { inputs: [x] }) => [mul(dy, mul(exp(neg(mul(x, x))), 2 / Math.sqrt(Math.PI)))]);

export interface GeluOptions {
  /** 'none' (default): x·Φ(x) with the exact normal CDF; 'tanh': the tanh approximation. */
  approximate?: 'none' | 'tanh';
}

export function gelu(x: Tensor, options: GeluOptions = {}): Tensor {
  const approximate = options.approximate ?? 'none';
  if (approximate !== 'none' && approximate !== 'tanh') {
    throw new ValueError('gelu', `approximate must be 'none' or 'tanh', got ${JSON.stringify(approximate)}`);
  }
  return unaryOp('gelu', x, { approximate });
}
engine.registerGradient('gelu', ([dy], { inputs: [x], attrs }) => {
  if (attrs.approximate === 'tanh') {
    // y = x/2·(1 + tanh u), u = √(2/π)(x + 0.044715x³): y' = (1 + tanh u)/2 + x/2·(1 − tanh²u)·u'.
    const c = Math.sqrt(2 / Math.PI);
    const t = tanh(mul(add(x, mul(pow(x, 3), 0.044715)), c));
    const du = mul(add(mul(square(x), 3 * 0.044715), 1), c);
    const slope = add(mul(add(t, 1), 0.5), mul(mul(x, 0.5), mul(sub(1, square(t)), du)));
    return [mul(dy, slope)];
  }
  // y' = Φ(x) + x·φ(x).
  const cdf = mul(add(erf(mul(x, Math.SQRT1_2)), 1), 0.5);
  const pdf = mul(exp(mul(square(x), -0.5)), 1 / Math.sqrt(2 * Math.PI));
  return [mul(dy, add(cdf, mul(x, pdf)))];
});
