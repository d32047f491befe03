// Vector helpers shared by the kernels: multiply-add (fused where relaxed SIMD is enabled at build
// time), horizontal reductions, and a fast exp.

/** a·b + c: one relaxed FMA in the relaxed build, mul + add in the plain one. */
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

@inline export function hsum(v: v128): f32 {
  const pairs = f32x4.add(v, i32x4.shuffle(v, v, 2, 3, 0, 1));
  return f32x4.extract_lane(pairs, 0) + f32x4.extract_lane(pairs, 1);
}

@inline export function hmax(v: v128): f32 {
  const pairs = f32x4.max(v, i32x4.shuffle(v, v, 2, 3, 0, 1));
  return max<f32>(f32x4.extract_lane(pairs, 0), f32x4.extract_lane(pairs, 1));
}

// exp(x) = 2^n · e^r with n = floor(x / ln2) and r = x − n·ln2 ∈ [0, ln2) (Cody–Waite split of ln2),
// e^r by a degree-5 polynomial fitted for relative error (≤ 2e-7 in f32 over [0, ln2); exp(0) = 1).
const LOG2E: f32 = 1.4426950408889634;
const LN2_HI: f32 = 0.693145751953125;
const LN2_LO: f32 = 1.4286068e-6;
// P0 = 1 exactly, so that exp(0) = 1.
const P0: f32 = 1.0;
const P1: f32 = 1.000006;
const P2: f32 = 0.49987084;
const P3: f32 = 0.16755491;
const P4: f32 = 0.039062638;
const P5: f32 = 0.011669372;

/** e^x per lane; underflows to 0 below about −87.3, +Inf above about 88.7, NaN stays NaN. */
@inline export function vexp(x: v128): v128 {
  // Clamping keeps 2^n representable: n ∈ [−127, 128]; n = −127 gives 0, n = 128 gives +Inf.
  // pmin/pmax are single instructions on x86 (min/max are not) and still pass NaN through here.
  const t = f32x4.pmin(f32x4.pmax(f32x4.mul(x, f32x4.splat(LOG2E)), f32x4.splat(-127.0)), f32x4.splat(128.0));
  const n = f32x4.floor(t);
  const xc = f32x4.pmin(f32x4.pmax(x, f32x4.splat(-88.5)), f32x4.splat(89.0));
  let r = f32x4.sub(xc, f32x4.mul(n, f32x4.splat(LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(LN2_LO)));
  let p = madd(f32x4.splat(P5), r, f32x4.splat(P4));
  p = madd(p, r, f32x4.splat(P3));
  p = madd(p, r, f32x4.splat(P2));
  p = madd(p, r, f32x4.splat(P1));
  p = madd(p, r, f32x4.splat(P0));
  // 2^n: n + 1.5·2^23 holds the integer n in its low mantissa bits (cheaper than trunc_sat on x86);
  // add the exponent bias and shift it into place.
  const bits = i32x4.add(f32x4.add(n, f32x4.splat(12582912.0)), i32x4.splat(127 - 0x4b400000));
  return f32x4.mul(p, i32x4.shl(bits, 23));
}

/** 1 / (1 + e^−x). */
@inline export function vsigmoid(x: v128): v128 {
  const one = f32x4.splat(1.0);
  return f32x4.div(one, f32x4.add(one, vexp(f32x4.neg(x))));
}

/** tanh(x) = sign(x)·(1 − e^−2|x|)/(1 + e^−2|x|); an odd polynomial near 0 avoids the cancellation. */
@inline export function vtanh(x: v128): v128 {
  const ax = f32x4.abs(x);
  const e = vexp(f32x4.mul(ax, f32x4.splat(-2.0)));
  const one = f32x4.splat(1.0);
  const far = f32x4.div(f32x4.sub(one, e), f32x4.add(one, e));
  const x2 = f32x4.mul(ax, ax);
  // tanh(a) ≈ a − a³/3 + 2a⁵/15 − 17a⁷/315 for a < 0.125 (next term < 1e-9 relative).
  let near = madd(x2, f32x4.splat(-0.053968254), f32x4.splat(0.13333334));
  near = madd(near, x2, f32x4.splat(-0.33333334));
  near = madd(near, x2, one);
  near = f32x4.mul(near, ax);
  const mag = v128.bitselect(near, far, f32x4.lt(ax, f32x4.splat(0.125)));
  // Copy the sign bit of x (keeps NaN as NaN).
  return v128.or(mag, v128.and(x, i32x4.splat(0x80000000)));
}

// log(x) = k·ln2 + log(m) with m ∈ [√½, √2): log(m) = 2·atanh(s), s = (m − 1)/(m + 1), |s| ≤ 0.172,
// by its odd series to s⁹ (truncation < 1e-9). Own code rather than Mathf.log: that one brings a
// lookup table, and kernel modules must have no data segments.
const SQRT_HALF_BITS: i32 = 0x3f3504f3;

/** log(x) per lane: −Inf at 0, NaN below 0 or for NaN, +Inf at +Inf; subnormals handled. */
@inline export function vlog(x: v128): v128 {
  const tiny = f32x4.lt(x, f32x4.splat(1.17549435e-38));
  const xs = v128.bitselect(f32x4.mul(x, f32x4.splat(8388608.0)), x, tiny);
  let ix = i32x4.add(xs, i32x4.splat(0x3f800000 - SQRT_HALF_BITS));
  const k = f32x4.convert_i32x4_s(i32x4.sub(i32x4.shr_s(ix, 23), i32x4.splat(127)));
  const kk = f32x4.sub(k, v128.and(f32x4.splat(23.0), tiny));
  ix = i32x4.add(v128.and(ix, i32x4.splat(0x007fffff)), i32x4.splat(SQRT_HALF_BITS));
  const f = f32x4.sub(ix, f32x4.splat(1.0));
  const s = f32x4.div(f, f32x4.add(f32x4.splat(2.0), f));
  const s2 = f32x4.mul(s, s);
  let p = madd(s2, f32x4.splat(0.22222222), f32x4.splat(0.2857143));
  p = madd(p, s2, f32x4.splat(0.4));
  p = madd(p, s2, f32x4.splat(0.6666667));
  p = madd(p, s2, f32x4.splat(2.0));
  const logm = f32x4.mul(p, s);
  let r = madd(kk, f32x4.splat(LN2_HI), madd(kk, f32x4.splat(LN2_LO), logm));
  // Special values: 0 → −Inf, < 0 or NaN → NaN, +Inf → +Inf.
  r = v128.bitselect(f32x4.splat(-Infinity), r, f32x4.eq(x, f32x4.splat(0)));
  r = v128.bitselect(f32x4.splat(NaN), r, v128.not(f32x4.ge(x, f32x4.splat(0))));
  r = v128.bitselect(x, r, f32x4.eq(x, f32x4.splat(Infinity)));
  return r;
}

/** log(1 + u), accurate for tiny u: log(w)·u/(w − 1) with w = 1 + u (u where w rounds to 1). */
@inline export function vlog1p(u: v128): v128 {
  const w = f32x4.add(u, f32x4.splat(1.0));
  const d = f32x4.sub(w, f32x4.splat(1.0));
  let r = f32x4.div(f32x4.mul(vlog(w), u), d);
  r = v128.bitselect(u, r, f32x4.eq(d, f32x4.splat(0)));
  return v128.bitselect(w, r, f32x4.eq(w, f32x4.splat(Infinity)));
}

/** softplus with PyTorch's threshold: x above 20 passes through. */
@inline export function vsoftplus(x: v128): v128 {
  return v128.bitselect(x, vlog1p(vexp(x)), f32x4.gt(x, f32x4.splat(20.0)));
}

/** Scalar log through the vector path. */
@inline export function logf(x: f32): f32 {
  return f32x4.extract_lane(vlog(f32x4.splat(x)), 0);
}
