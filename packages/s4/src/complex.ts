/**
 * Complex arithmetic on pairs of real tensors. Core tensors are real, so a complex tensor is `{ re, im }`
 * with equal (or broadcastable) shapes; every helper is made of differentiable core ops, so gradients flow
 * through both parts. Numbers stand for real constants.
 */
import {
  add, concat, cos, div, exp, matmul, mul, neg, reshape, ShapeError, shapeStr, sin, slice, sub, sum, tanh, tensor,
  type MatmulOptions, type Tensor,
} from '@ssmjs/core';

export interface Complex {
  re: Tensor;
  im: Tensor;
}

/** A real operand: a tensor or a number (broadcast). */
type Real = Tensor | number;

export function cadd(a: Complex, b: Complex): Complex {
  return { re: add(a.re, b.re), im: add(a.im, b.im) };
}

export function csub(a: Complex, b: Complex): Complex {
  return { re: sub(a.re, b.re), im: sub(a.im, b.im) };
}

/** (a + ib)(c + id) = (ac − bd) + i(ad + bc). */
export function cmul(a: Complex, b: Complex): Complex {
  return { re: sub(mul(a.re, b.re), mul(a.im, b.im)), im: add(mul(a.re, b.im), mul(a.im, b.re)) };
}

/** A complex value times a real one. */
export function cscale(a: Complex, s: Real): Complex {
  return { re: mul(a.re, s), im: mul(a.im, s) };
}

export function cconj(a: Complex): Complex {
  return { re: a.re, im: neg(a.im) };
}

/** |a|² = re² + im². */
export function cabs2(a: Complex): Tensor {
  return add(mul(a.re, a.re), mul(a.im, a.im));
}

/** 1/a = conj(a)/|a|². */
export function cinv(a: Complex): Complex {
  const m = cabs2(a);
  return { re: div(a.re, m), im: neg(div(a.im, m)) };
}

export function cdiv(a: Complex, b: Complex): Complex {
  return cmul(a, cinv(b));
}

/** e^(re + i·im) = e^re·(cos im + i·sin im). */
export function cexp(a: Complex): Complex {
  const magnitude = exp(a.re);
  return { re: mul(magnitude, cos(a.im)), im: mul(magnitude, sin(a.im)) };
}

/**
 * e^z − 1 without the cancellation of subtracting 1 for small z: with z = a + ib,
 * e^z − 1 = expm1(a)·cos b − 2·sin²(b/2) + i·e^a·sin b, and expm1(a) = 2t/(1 − t) for t = tanh(a/2).
 */
export function cexpm1(z: Complex): Complex {
  const t = tanh(mul(z.re, 0.5));
  const expm1Re = div(mul(t, 2), sub(1, t));
  const halfSin = sin(mul(z.im, 0.5));
  return {
    re: sub(mul(expm1Re, cos(z.im)), mul(mul(halfSin, halfSin), 2)),
    im: mul(exp(z.re), sin(z.im)),
  };
}

/** A real constant plus a complex value. */
export function caddReal(a: Complex, s: Real): Complex {
  return { re: add(a.re, s), im: a.im };
}

/** Σ over axes of both parts. */
export function csum(a: Complex, axes: number | number[]): Complex {
  return { re: sum(a.re, axes), im: sum(a.im, axes) };
}

export function creshape(a: Complex, shape: readonly number[]): Complex {
  return { re: reshape(a.re, shape), im: reshape(a.im, shape) };
}

/** Complex matrix product (batched and transposed like core's matmul). */
export function cmatmul(a: Complex, b: Complex, options: MatmulOptions = {}): Complex {
  return {
    re: sub(matmul(a.re, b.re, options), matmul(a.im, b.im, options)),
    im: add(matmul(a.re, b.im, options), matmul(a.im, b.re, options)),
  };
}

/** [..., 2] (re, im) pairs, as core's rfft returns and irfft takes, → { re, im } of shape [...]. */
export function fromPairs(x: Tensor): Complex {
  if (x.rank < 1 || x.shape[x.rank - 1] !== 2) {
    throw new ShapeError('fromPairs', `expected [..., 2] (re, im) pairs, got ${shapeStr(x.shape)}`);
  }
  const lead = x.shape.slice(0, -1);
  const begin = x.shape.map(() => 0);
  const size = [...lead, 1];
  return {
    re: reshape(slice(x, begin, size), lead),
    im: reshape(slice(x, [...lead.map(() => 0), 1], size), lead),
  };
}

/** { re, im } of shape [...] → [..., 2] pairs. */
export function toPairs(a: Complex): Tensor {
  const shape = [...a.re.shape, 1];
  return concat([reshape(a.re, shape), reshape(a.im, shape)], a.re.rank);
}

/** A complex constant from host arrays (float64 values rounded to float32). */
export function complexConstant(re: ArrayLike<number>, im: ArrayLike<number>, shape: readonly number[]): Complex {
  return { re: tensor(Float32Array.from(re), shape), im: tensor(Float32Array.from(im), shape) };
}
