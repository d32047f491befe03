import { PARAMS, threadEntry } from './common';

/**
 * gather along an axis of an [outer, count, inner] view: out[o, j, i] = x[o, idx[j], i], as raw words.
 * Indices outside [0, count) give zeros (the cpu kernel throws). Params: [n, count, inner, nIdx].
 */
export function gatherSource(): string {
  return `${PARAMS}
@group(0) @binding(1) var<storage, read> xs: array<u32>;
@group(0) @binding(2) var<storage, read> indices: array<i32>;
@group(0) @binding(3) var<storage, read_write> ys: array<u32>;
${threadEntry(256)}
  if (i >= p[0]) { return; }
  let count = p[1];
  let inner = p[2];
  let nIdx = p[3];
  let within = i % inner;
  let j = (i / inner) % nIdx;
  let o = i / (inner * nIdx);
  let index = indices[j];
  var value = 0u;
  if (index >= 0 && u32(index) < count) { value = xs[(o * count + u32(index)) * inner + within]; }
  ys[i] = value;
}`;
}

/**
 * scatterAdd, the adjoint of gather: out (zeroed first) [outer, count, inner] gets updates[o, j, i]
 * added at [o, idx[j], i]. Float atomics do not exist in WGSL: a compare-exchange loop on the bits.
 * Params: [n (updates), count, inner, nIdx].
 */
export function scatterAddSource(): string {
  return `${PARAMS}
@group(0) @binding(1) var<storage, read> updates: array<f32>;
@group(0) @binding(2) var<storage, read> indices: array<i32>;
@group(0) @binding(3) var<storage, read_write> ys: array<atomic<u32>>;
${threadEntry(256)}
  if (i >= p[0]) { return; }
  let count = p[1];
  let inner = p[2];
  let nIdx = p[3];
  let within = i % inner;
  let j = (i / inner) % nIdx;
  let o = i / (inner * nIdx);
  let index = indices[j];
  if (index < 0 || u32(index) >= count) { return; }
  let at = (o * count + u32(index)) * inner + within;
  let update = updates[i];
  var old = atomicLoad(&ys[at]);
  loop {
    let result = atomicCompareExchangeWeak(&ys[at], old, bitcast<u32>(bitcast<f32>(old) + update));
    if (result.exchanged) { break; }
    old = result.old_value;
  }
}`;
}

/** oneHot: out[i, k] = 1 where idx[i] == k (indices outside [0, depth) give a zero row). Params: [n, depth]. */
export function oneHotSource(): string {
  return `${PARAMS}
@group(0) @binding(1) var<storage, read> indices: array<i32>;
@group(0) @binding(2) var<storage, read_write> ys: array<f32>;
${threadEntry(256)}
  if (i >= p[0]) { return; }
  let depth = p[1];
  ys[i] = select(0.0, 1.0, indices[i / depth] == i32(i % depth));
}`;
}
