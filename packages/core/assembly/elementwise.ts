// Elementwise kernels. Op codes are shared with src/backends/wasm/kernels.ts (UNARY_OPS, BINARY_OPS).
import { vexp, vlog, vsigmoid, vsoftplus, vtanh } from './simd';

// ---------------------------------------------------------------- unary

const NEG = 0;
const EXP = 1;
const LOG = 2;
const SQRT = 3;
const RSQRT = 4;
const ABS = 5;
const TANH = 6;
const SIGMOID = 7;
const SILU = 8;
const SQUARE = 9;
const SOFTPLUS = 10;
const SIGN = 11;

@inline function unaryVec(op: i32, x: v128): v128 {
  switch (op) {
    case NEG: return f32x4.neg(x);
    case EXP: return vexp(x);
    case LOG: return vlog(x);
    case SOFTPLUS: return vsoftplus(x);
    case SQRT: return f32x4.sqrt(x);
    case RSQRT: return f32x4.div(f32x4.splat(1.0), f32x4.sqrt(x));
    case ABS: return f32x4.abs(x);
    case TANH: return vtanh(x);
    case SIGMOID: return vsigmoid(x);
    case SILU: return f32x4.mul(x, vsigmoid(x));
    case SIGN: {
      // ±1, with ±0 and NaN passed through (Math.sign).
      let r = v128.bitselect(f32x4.splat(1.0), f32x4.splat(0), f32x4.gt(x, f32x4.splat(0)));
      r = v128.bitselect(f32x4.splat(-1.0), r, f32x4.lt(x, f32x4.splat(0)));
      return v128.bitselect(x, r, v128.or(f32x4.eq(x, f32x4.splat(0)), f32x4.ne(x, x)));
    }
    default: return f32x4.mul(x, x); // SQUARE
  }
}

@inline function unaryScalar(op: i32, x: f32): f32 {
  return f32x4.extract_lane(unaryVec(op, f32x4.splat(x)), 0);
}

/** out[i] = op(x[i]) for i < n. */
export function unary(op: i32, x: usize, out: usize, n: i32): void {
  // One loop per op: with `op` a constant in each inlined copy, the optimizer drops the dispatch.
  switch (op) {
    case NEG: unaryLoop(NEG, x, out, n); break;
    case EXP: unaryLoop(EXP, x, out, n); break;
    case LOG: unaryLoop(LOG, x, out, n); break;
    case SQRT: unaryLoop(SQRT, x, out, n); break;
    case RSQRT: unaryLoop(RSQRT, x, out, n); break;
    case ABS: unaryLoop(ABS, x, out, n); break;
    case TANH: unaryLoop(TANH, x, out, n); break;
    case SIGMOID: unaryLoop(SIGMOID, x, out, n); break;
    case SILU: unaryLoop(SILU, x, out, n); break;
    case SOFTPLUS: unaryLoop(SOFTPLUS, x, out, n); break;
    case SIGN: unaryLoop(SIGN, x, out, n); break;
    default: unaryLoop(SQUARE, x, out, n);
  }
}

@inline function unaryLoop(op: i32, x: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const off = <usize>i << 2;
    v128.store(out + off, unaryVec(op, v128.load(x + off)));
  }
  for (; i < n; i++) {
    const off = <usize>i << 2;
    store<f32>(out + off, unaryScalar(op, load<f32>(x + off)));
  }
}

// ---------------------------------------------------------------- binary

const ADD = 0;
const SUB = 1;
const MUL = 2;
const DIV = 3;
const MAXIMUM = 4;
const MINIMUM = 5;

@inline function binaryVec(op: i32, a: v128, b: v128): v128 {
  switch (op) {
    case ADD: return f32x4.add(a, b);
    case SUB: return f32x4.sub(a, b);
    case MUL: return f32x4.mul(a, b);
    case DIV: return f32x4.div(a, b);
    case MAXIMUM: return f32x4.max(a, b);
    default: return f32x4.min(a, b);
  }
}

@inline function binaryScalar(op: i32, a: f32, b: f32): f32 {
  return f32x4.extract_lane(binaryVec(op, f32x4.splat(a), f32x4.splat(b)), 0);
}

/** One contiguous run of the output: a and b advance by sa, sb ∈ {0, 1} elements. */
function binaryRow(op: i32, a: usize, sa: i32, b: usize, sb: i32, out: usize, n: i32): void {
  // One loop per op (see unary).
  switch (op) {
    case ADD: binaryRowOf(ADD, a, sa, b, sb, out, n); break;
    case SUB: binaryRowOf(SUB, a, sa, b, sb, out, n); break;
    case MUL: binaryRowOf(MUL, a, sa, b, sb, out, n); break;
    case DIV: binaryRowOf(DIV, a, sa, b, sb, out, n); break;
    case MAXIMUM: binaryRowOf(MAXIMUM, a, sa, b, sb, out, n); break;
    default: binaryRowOf(MINIMUM, a, sa, b, sb, out, n);
  }
}

@inline function binaryRowOf(op: i32, a: usize, sa: i32, b: usize, sb: i32, out: usize, n: i32): void {
  let i = 0;
  if (sa == 1 && sb == 1) {
    for (; i + 4 <= n; i += 4) {
      const off = <usize>i << 2;
      v128.store(out + off, binaryVec(op, v128.load(a + off), v128.load(b + off)));
    }
  } else if (sa == 1 && sb == 0) {
    const bv = v128.load32_splat(b);
    for (; i + 4 <= n; i += 4) {
      const off = <usize>i << 2;
      v128.store(out + off, binaryVec(op, v128.load(a + off), bv));
    }
  } else if (sa == 0 && sb == 1) {
    const av = v128.load32_splat(a);
    for (; i + 4 <= n; i += 4) {
      const off = <usize>i << 2;
      v128.store(out + off, binaryVec(op, av, v128.load(b + off)));
    }
  }
  for (; i < n; i++) {
    store<f32>(out + (<usize>i << 2), binaryScalar(op, load<f32>(a + (<usize>(i * sa) << 2)), load<f32>(b + (<usize>(i * sb) << 2))));
  }
}

/**
 * out = op(a, b) with broadcasting, over an output of `rank` dims (shape at shapePtr, i32) with the
 * inputs' element strides at saPtr / sbPtr (0 on broadcast axes). The caller merges contiguous
 * dims first, so same-shape and scalar cases arrive as rank 1.
 */
export function binary(op: i32, a: usize, b: usize, out: usize, rank: i32, shapePtr: usize, saPtr: usize, sbPtr: usize, idxPtr: usize): void {
  const last = rank - 1;
  const n = load<i32>(shapePtr + (<usize>last << 2));
  const sa = load<i32>(saPtr + (<usize>last << 2));
  const sb = load<i32>(sbPtr + (<usize>last << 2));
  let rows = 1;
  for (let d = 0; d < last; d++) {
    rows *= load<i32>(shapePtr + (<usize>d << 2));
    store<i32>(idxPtr + (<usize>d << 2), 0);
  }
  let offA = 0;
  let offB = 0;
  for (let r = 0; r < rows; r++) {
    if (sa <= 1 && sb <= 1) {
      binaryRow(op, a + (<usize>offA << 2), sa, b + (<usize>offB << 2), sb, out + (<usize>(r * n) << 2), n);
    } else {
      for (let i = 0; i < n; i++) {
        const v = binaryScalar(op, load<f32>(a + (<usize>(offA + i * sa) << 2)), load<f32>(b + (<usize>(offB + i * sb) << 2)));
        store<f32>(out + (<usize>(r * n + i) << 2), v);
      }
    }
    // Odometer over the outer dims.
    for (let d = last - 1; d >= 0; d--) {
      const dp = <usize>d << 2;
      const i = load<i32>(idxPtr + dp) + 1;
      const size = load<i32>(shapePtr + dp);
      const da = load<i32>(saPtr + dp);
      const db = load<i32>(sbPtr + dp);
      if (i < size) {
        store<i32>(idxPtr + dp, i);
        offA += da;
        offB += db;
        break;
      }
      store<i32>(idxPtr + dp, 0);
      offA -= da * (size - 1);
      offB -= db * (size - 1);
    }
  }
}

/** float32 → int32 (truncation toward zero, saturating) and int32 → float32. */
export function castF32ToI32(x: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const off = <usize>i << 2;
    v128.store(out + off, i32x4.trunc_sat_f32x4_s(v128.load(x + off)));
  }
  for (; i < n; i++) {
    const off = <usize>i << 2;
    store<i32>(out + off, i32x4.extract_lane(i32x4.trunc_sat_f32x4_s(f32x4.splat(load<f32>(x + off))), 0));
  }
}

export function castI32ToF32(x: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const off = <usize>i << 2;
    v128.store(out + off, f32x4.convert_i32x4_s(v128.load(x + off)));
  }
  for (; i < n; i++) {
    const off = <usize>i << 2;
    store<f32>(out + off, <f32>load<i32>(x + off));
  }
}
