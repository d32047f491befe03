import { PARAMS, threadEntry } from './common';

export const ELEMENTWISE_WORKGROUP = 256;

/**
 * Math helpers written over `T` (an alias of f32 or vec4<f32>), so one expression serves the scalar
 * and the four-wide kernels. tanh is clamped: some drivers overflow exp inside tanh for |x| > ~44.
 */
const HELPERS = `
// x reduced to [-π, π]: GPU sin/cos are accurate there only.
fn turns_(x: T) -> T { return x - T(6.283185307179586) * round(x * T(0.15915494309189535)); }
fn sigmoid_(x: T) -> T { return T(1.0) / (T(1.0) + exp(-x)); }
fn tanh_(x: T) -> T { return tanh(clamp(x, T(-15.0), T(15.0))); }
// Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7).
fn erf_(x: T) -> T {
  let z = abs(x);
  let t = T(1.0) / (T(1.0) + T(0.3275911) * z);
  let poly = t * (T(0.254829592) + t * (T(-0.284496736) + t * (T(1.421413741) + t * (T(-1.453152027) + t * T(1.061405429)))));
  return sign(x) * (T(1.0) - poly * exp(-z * z));
}
fn softplus_(x: T) -> T { return select(log(T(1.0) + exp(x)), x, x > T(20.0)); }
fn gelu_(x: T) -> T { return T(0.5) * x * (T(1.0) + erf_(x * T(0.70710678118654752))); }
fn geluTanh_(x: T) -> T { return T(0.5) * x * (T(1.0) + tanh_(T(0.7978845608028654) * (x + T(0.044715) * x * x * x))); }
// Real powers as Math.pow: negative bases with integer exponents keep their sign; pow(x, 0) = 1.
fn pow_(a: T, b: T) -> T {
  let magnitude = exp2(b * log2(abs(a)));
  let isInteger = floor(b) == b;
  let oddInteger = (b - T(2.0) * floor(b * T(0.5))) == T(1.0);
  var r = select(magnitude, -magnitude, (a < T(0.0)) & oddInteger);
  r = select(r, sqrt(-abs(a) - T(1.0)), (a < T(0.0)) & !isInteger);
  return select(r, T(1.0), b == T(0.0));
}
`;

/** Unary ops as expressions of `x`. */
export const UNARY_OPS: Record<string, string> = {
  neg: '-x',
  exp: 'exp(x)',
  log: 'log(x)',
  sqrt: 'sqrt(x)',
  rsqrt: 'inverseSqrt(x)',
  abs: 'abs(x)',
  square: 'x * x',
  sign: 'sign(x)',
  sin: 'sin(turns_(x))',
  cos: 'cos(turns_(x))',
  tanh: 'tanh_(x)',
  sigmoid: 'sigmoid_(x)',
  silu: 'x * sigmoid_(x)',
  softplus: 'softplus_(x)',
  erf: 'erf_(x)',
  gelu: 'gelu_(x)',
  geluTanh: 'geluTanh_(x)',
};

/** Binary ops as expressions of `a` and `b`. maximum/minimum let a NaN in `a` win, as the cpu kernel. */
export const BINARY_OPS: Record<string, string> = {
  add: 'a + b',
  sub: 'a - b',
  mul: 'a * b',
  div: 'a / b',
  pow: 'pow_(a, b)',
  maximum: 'select(b, a, (a >= b) | (a != a))',
  minimum: 'select(b, a, (a <= b) | (a != a))',
};

/** Params: [n]. `vec4`: n counts vec4s. */
export function unarySource(expr: string, vec4: boolean): string {
  const T = vec4 ? 'vec4<f32>' : 'f32';
  return `alias T = ${T};
${PARAMS}
@group(0) @binding(1) var<storage, read> xs: array<T>;
@group(0) @binding(2) var<storage, read_write> ys: array<T>;
${HELPERS}
${threadEntry(ELEMENTWISE_WORKGROUP)}
  if (i >= p[0]) { return; }
  let x = xs[i];
  ys[i] = ${expr};
}`;
}

/**
 * Binary op with NumPy broadcasting. `same`: both inputs have the output's shape (params [n], vec4
 * when n % 4 == 0). `broadcast`: params [n, rank, shape…, stridesA…, stridesB…] (0 on broadcast axes).
 */
export function binarySource(expr: string, mode: 'same' | 'same4' | 'broadcast'): string {
  const T = mode === 'same4' ? 'vec4<f32>' : 'f32';
  const body =
    mode === 'broadcast'
      ? `  let rank = p[1];
  var rem = i;
  var ia = 0u;
  var ib = 0u;
  for (var d = rank; d > 0u; d--) {
    let k = d - 1u;
    let index = rem % p[2u + k];
    rem = rem / p[2u + k];
    ia += index * p[2u + rank + k];
    ib += index * p[2u + 2u * rank + k];
  }
  let a = as_[ia];
  let b = bs[ib];`
      : `  let a = as_[i];
  let b = bs[i];`;
  return `alias T = ${T};
${PARAMS}
@group(0) @binding(1) var<storage, read> as_: array<T>;
@group(0) @binding(2) var<storage, read> bs: array<T>;
@group(0) @binding(3) var<storage, read_write> ys: array<T>;
${HELPERS}
${threadEntry(ELEMENTWISE_WORKGROUP)}
  if (i >= p[0]) { return; }
${body}
  ys[i] = ${expr};
}`;
}

/**
 * where(cond, a, b) with broadcasting of all three; values move as raw 32-bit words (any dtype).
 * Params: [n, rank, shape…, stridesCond…, stridesA…, stridesB…].
 */
export function whereSource(): string {
  return `${PARAMS}
@group(0) @binding(1) var<storage, read> cond: array<i32>;
@group(0) @binding(2) var<storage, read> as_: array<u32>;
@group(0) @binding(3) var<storage, read> bs: array<u32>;
@group(0) @binding(4) var<storage, read_write> ys: array<u32>;
${threadEntry(ELEMENTWISE_WORKGROUP)}
  if (i >= p[0]) { return; }
  let rank = p[1];
  var rem = i;
  var ic = 0u;
  var ia = 0u;
  var ib = 0u;
  for (var d = rank; d > 0u; d--) {
    let k = d - 1u;
    let index = rem % p[2u + k];
    rem = rem / p[2u + k];
    ic += index * p[2u + rank + k];
    ia += index * p[2u + 2u * rank + k];
    ib += index * p[2u + 3u * rank + k];
  }
  ys[i] = select(bs[ib], as_[ia], cond[ic] != 0);
}`;
}

/**
 * float32 → int32 truncates toward zero (NaN → 0, out of range saturates); int32 → float32 rounds.
 * Params: [n].
 */
export function castSource(to: 'float32' | 'int32'): string {
  const [from, into, expr] =
    to === 'int32'
      ? ['f32', 'i32', 'select(i32(clamp(x, -2147483648.0, 2147483520.0)), 0, x != x)']
      : ['i32', 'f32', 'f32(x)'];
  return `${PARAMS}
@group(0) @binding(1) var<storage, read> xs: array<${from}>;
@group(0) @binding(2) var<storage, read_write> ys: array<${into}>;
${threadEntry(ELEMENTWISE_WORKGROUP)}
  if (i >= p[0]) { return; }
  let x = xs[i];
  ys[i] = ${expr};
}`;
}
