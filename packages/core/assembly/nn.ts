// Row-wise neural-net kernels: softmax, log-softmax, cross-entropy, RMSNorm, causal depthwise conv1d.
import { madd, vexp } from './simd';
import { rowLogSumExp, rowMax, rowSum, rowSumExp } from './reduce';

/** Softmax over rows of length n (the last axis). */
export function softmax(x: usize, out: usize, rows: i32, n: i32): void {
  for (let r = 0; r < rows; r++) {
    const src = x + (<usize>(r * n) << 2);
    const dst = out + (<usize>(r * n) << 2);
    const mv = f32x4.splat(rowMax(src, n));
    let i = 0;
    for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), vexp(f32x4.sub(v128.load(src + (<usize>i << 2)), mv)));
    for (; i < n; i++) {
      store<f32>(dst + (<usize>i << 2), f32x4.extract_lane(vexp(f32x4.sub(f32x4.splat(load<f32>(src + (<usize>i << 2))), mv)), 0));
    }
    const inv = f32x4.splat(1.0 / rowSum(dst, n));
    i = 0;
    for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), f32x4.mul(v128.load(dst + (<usize>i << 2)), inv));
    for (; i < n; i++) store<f32>(dst + (<usize>i << 2), load<f32>(dst + (<usize>i << 2)) * f32x4.extract_lane(inv, 0));
  }
}

/** x − logsumexp(x) over rows of length n. */
export function logSoftmax(x: usize, out: usize, rows: i32, n: i32): void {
  for (let r = 0; r < rows; r++) {
    const src = x + (<usize>(r * n) << 2);
    const dst = out + (<usize>(r * n) << 2);
    const lv = f32x4.splat(rowLogSumExp(src, n));
    let i = 0;
    for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), f32x4.sub(v128.load(src + (<usize>i << 2)), lv));
    for (; i < n; i++) store<f32>(dst + (<usize>i << 2), load<f32>(src + (<usize>i << 2)) - f32x4.extract_lane(lv, 0));
  }
}

/**
 * Mean over rows whose target is not `ignoreIndex` of logsumexp(row) − row[target] (PyTorch's
 * cross_entropy, reduction 'mean'). Returns the number of rows counted, or −(row + 1) of the first
 * target outside [0, classes).
 */
export function crossEntropy(logits: usize, targets: usize, out: usize, rows: i32, classes: i32, ignoreIndex: i32): i32 {
  let total: f64 = 0;
  let count = 0;
  for (let r = 0; r < rows; r++) {
    const t = load<i32>(targets + (<usize>r << 2));
    if (t == ignoreIndex) continue;
    if (t < 0 || t >= classes) return -(r + 1);
    const row = logits + (<usize>(r * classes) << 2);
    total += <f64>(rowLogSumExp(row, classes) - load<f32>(row + (<usize>t << 2)));
    count++;
  }
  store<f32>(out, <f32>(total / <f64>count));
  return count;
}

/** x · rsqrt(mean(x²) + eps) · weight over rows of length n. */
export function rmsNorm(x: usize, weight: usize, out: usize, rows: i32, n: i32, eps: f32): void {
  for (let r = 0; r < rows; r++) {
    const src = x + (<usize>(r * n) << 2);
    const dst = out + (<usize>(r * n) << 2);
    let acc = f32x4.splat(0);
    let i = 0;
    for (; i + 4 <= n; i += 4) {
      const v = v128.load(src + (<usize>i << 2));
      acc = madd(v, v, acc);
    }
    let ss = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
    for (; i < n; i++) {
      const v = load<f32>(src + (<usize>i << 2));
      ss += v * v;
    }
    const scale: f32 = 1.0 / Mathf.sqrt(ss / <f32>n + eps);
    const sv = f32x4.splat(scale);
    i = 0;
    for (; i + 4 <= n; i += 4) {
      const off = <usize>i << 2;
      v128.store(dst + off, f32x4.mul(f32x4.mul(v128.load(src + off), sv), v128.load(weight + off)));
    }
    for (; i < n; i++) {
      const off = <usize>i << 2;
      store<f32>(dst + off, load<f32>(src + off) * scale * load<f32>(weight + off));
    }
  }
}

/**
 * Causal depthwise conv: y[b,c,t] = bias[c] + Σ_k w[c,k]·x[b,c,t−K+1+k] (zeros left of t = 0).
 * Channels [c0, c1) of every batch row; bias = 0 means no bias. Vectorized over t; the first K−1
 * steps go scalar.
 */
export function conv1d(x: usize, w: usize, bias: usize, out: usize, B: i32, C: i32, L: i32, K: i32, c0: i32, c1: i32): void {
  for (let b = 0; b < B; b++) {
    for (let c = c0; c < c1; c++) {
      const src = x + (<usize>((b * C + c) * L) << 2);
      const dst = out + (<usize>((b * C + c) * L) << 2);
      const wc = w + (<usize>(c * K) << 2);
      const b0: f32 = bias != 0 ? load<f32>(bias + (<usize>c << 2)) : 0;
      const head = min(K - 1, L);
      for (let t = 0; t < head; t++) {
        let s = b0;
        for (let k = K - 1 - t; k < K; k++) s += load<f32>(wc + (<usize>k << 2)) * load<f32>(src + (<usize>(t - K + 1 + k) << 2));
        store<f32>(dst + (<usize>t << 2), s);
      }
      let t = head;
      for (; t + 4 <= L; t += 4) {
        let acc = f32x4.splat(b0);
        const base = src + (<usize>(t - K + 1) << 2);
        for (let k = 0; k < K; k++) acc = madd(v128.load32_splat(wc + (<usize>k << 2)), v128.load(base + (<usize>k << 2)), acc);
        v128.store(dst + (<usize>t << 2), acc);
      }
      for (; t < L; t++) {
        let s = b0;
        for (let k = 0; k < K; k++) s += load<f32>(wc + (<usize>k << 2)) * load<f32>(src + (<usize>(t - K + 1 + k) << 2));
        store<f32>(dst + (<usize>t << 2), s);
      }
    }
  }
}
