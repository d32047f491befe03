import { PARAMS, threadEntry } from './common';

/**
 * Causal depthwise conv1d: y[b,c,t] = bias[c] + Σ_k w[c,k]·x[b,c,t−K+1+k] (x = 0 before t = 0).
 * One invocation per output. Params: [n, C, L, K, hasBias].
 */
export function conv1dSource(): string {
  return `${PARAMS}
@group(0) @binding(1) var<storage, read> xs: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> ys: array<f32>;
${threadEntry(256)}
  if (i >= p[0]) { return; }
  let C = p[1];
  let L = p[2];
  let K = p[3];
  let t = i % L;
  let c = (i / L) % C;
  let rowStart = i - t;
  var acc = select(0.0, bias[c], p[4] != 0u);
  // Taps before t = 0 read zeros: start at k0 = max(0, K − 1 − t).
  var k0 = 0u;
  if (K > t + 1u) { k0 = K - 1u - t; }
  for (var k = k0; k < K; k++) {
    acc = fma(w[c * K + k], xs[rowStart + t + k + 1u - K], acc);
  }
  ys[i] = acc;
}`;
}

/**
 * One decoding step of the conv: one invocation per (batch, channel) row moves its window of K inputs on
 * by x and takes the dot product with the row's taps (+ bias, SiLU). Params: [rows, C, K, hasBias, silu].
 */
export function conv1dStepSource(): string {
  return `${PARAMS}
@group(0) @binding(1) var<storage, read> window: array<f32>;
@group(0) @binding(2) var<storage, read> xs: array<f32>;
@group(0) @binding(3) var<storage, read> w: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read_write> ys: array<f32>;
@group(0) @binding(6) var<storage, read_write> next: array<f32>;
${threadEntry(64)}
  if (i >= p[0]) { return; }
  let C = p[1];
  let K = p[2];
  let c = i % C;
  var acc = select(0.0, bias[c], p[3] != 0u);
  for (var k = 0u; k + 1u < K; k++) {
    let v = window[i * K + k + 1u];
    next[i * K + k] = v;
    acc = fma(w[c * K + k], v, acc);
  }
  let x = xs[i];
  next[i * K + K - 1u] = x;
  acc = fma(w[c * K + K - 1u], x, acc);
  ys[i] = select(acc, acc / (1.0 + exp(-acc)), p[4] != 0u);
}`;
}
