// Reductions over a contiguous block of axes: x viewed as [outer, red, inner], out as [outer, inner].
// inner = 1 (the last axes) is the fast path; other layouts sweep whole rows of `inner` with vectors.
import { hmax, hsum, logf, vexp } from './simd';

const SUM = 0;
const MEAN = 1;
const MAX = 2;
const LOGSUMEXP = 3;

@inline export function rowMax(x: usize, n: i32): f32 {
  let m = f32x4.splat(-Infinity);
  let i = 0;
  for (; i + 4 <= n; i += 4) m = f32x4.max(m, v128.load(x + (<usize>i << 2)));
  let s = hmax(m);
  for (; i < n; i++) s = max<f32>(s, load<f32>(x + (<usize>i << 2)));
  return s;
}

@inline export function rowSum(x: usize, n: i32): f32 {
  // Two accumulators halve the add latency chain.
  let s0 = f32x4.splat(0);
  let s1 = f32x4.splat(0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    s0 = f32x4.add(s0, v128.load(x + (<usize>i << 2)));
    s1 = f32x4.add(s1, v128.load(x + (<usize>i << 2), 16));
  }
  for (; i + 4 <= n; i += 4) s0 = f32x4.add(s0, v128.load(x + (<usize>i << 2)));
  let s = hsum(f32x4.add(s0, s1));
  for (; i < n; i++) s += load<f32>(x + (<usize>i << 2));
  return s;
}

/** Σ exp(x − m) over a row. */
export function rowSumExp(x: usize, n: i32, m: f32): f32 {
  const mv = f32x4.splat(m);
  let acc = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) acc = f32x4.add(acc, vexp(f32x4.sub(v128.load(x + (<usize>i << 2)), mv)));
  let s = hsum(acc);
  for (; i < n; i++) s += f32x4.extract_lane(vexp(f32x4.splat(load<f32>(x + (<usize>i << 2)) - m)), 0);
  return s;
}

/** log Σ exp over a row; max-shifted. A row of −∞ gives −∞, a +∞ gives +∞. */
export function rowLogSumExp(x: usize, n: i32): f32 {
  const m = rowMax(x, n);
  if (m == Infinity || m == -Infinity) return m;
  return m + logf(rowSumExp(x, n, m));
}

export function reduce(op: i32, x: usize, out: usize, outer: i32, red: i32, inner: i32): void {
  if (inner == 1) {
    for (let o = 0; o < outer; o++) {
      const row = x + (<usize>(o * red) << 2);
      let v: f32;
      switch (op) {
        case SUM: v = rowSum(row, red); break;
        case MEAN: v = rowSum(row, red) / <f32>red; break;
        case MAX: v = red > 0 ? rowMax(row, red) : -Infinity; break;
        default: v = rowLogSumExp(row, red);
      }
      store<f32>(out + (<usize>o << 2), v);
    }
    return;
  }
  for (let o = 0; o < outer; o++) {
    const block = x + (<usize>(o * red * inner) << 2);
    const dst = out + (<usize>(o * inner) << 2);
    reduceColumns(op == LOGSUMEXP ? MAX : op, block, dst, red, inner);
    if (op == MEAN) scaleRow(dst, inner, 1.0 / <f32>red);
    if (op == LOGSUMEXP) {
      // dst holds the column maxima; accumulate Σ exp(x − max) column-wise, then log.
      for (let j = 0; j < inner; j++) {
        const m = load<f32>(dst + (<usize>j << 2));
        if (m == Infinity || m == -Infinity) continue;
        let s: f32 = 0;
        for (let r = 0; r < red; r++) {
          s += f32x4.extract_lane(vexp(f32x4.splat(load<f32>(block + (<usize>(r * inner + j) << 2)) - m)), 0);
        }
        store<f32>(dst + (<usize>j << 2), m + logf(s));
      }
    }
  }
}

/** dst[j] = Σ_r / max_r src[r·inner + j]. */
function reduceColumns(op: i32, src: usize, dst: usize, red: i32, inner: i32): void {
  const isMax = op == MAX;
  const init: f32 = isMax ? -Infinity : 0;
  let j = 0;
  for (; j + 4 <= inner; j += 4) {
    let acc = f32x4.splat(init);
    for (let r = 0; r < red; r++) {
      const v = v128.load(src + (<usize>(r * inner + j) << 2));
      acc = isMax ? f32x4.max(acc, v) : f32x4.add(acc, v);
    }
    v128.store(dst + (<usize>j << 2), acc);
  }
  for (; j < inner; j++) {
    let acc = init;
    for (let r = 0; r < red; r++) {
      const v = load<f32>(src + (<usize>(r * inner + j) << 2));
      acc = isMax ? max<f32>(acc, v) : acc + v;
    }
    store<f32>(dst + (<usize>j << 2), acc);
  }
}

function scaleRow(x: usize, n: i32, s: f32): void {
  const sv = f32x4.splat(s);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(x + (<usize>i << 2), f32x4.mul(v128.load(x + (<usize>i << 2)), sv));
  for (; i < n; i++) store<f32>(x + (<usize>i << 2), load<f32>(x + (<usize>i << 2)) * s);
}

