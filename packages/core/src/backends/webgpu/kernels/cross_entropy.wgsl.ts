import { enables, PARAMS, reduceCall, rowEntry, workgroupReductions } from './common';

/**
 * Per-row losses of crossEntropy(logits [N, C], targets [N]): one workgroup per row writes
 * logsumexp(row) − row[target] and a weight of 1, or 0 and 0 for ignored rows. Targets outside
 * [0, C) that are not ignoreIndex give NaN (the cpu kernel throws; a GPU kernel cannot).
 * Params: [N, C, ignoreIndex (i32 bits)].
 */
export function crossEntropyRowsSource(size: number, subgroups: boolean): string {
  return `${enables(subgroups)}${PARAMS}
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<i32>;
@group(0) @binding(3) var<storage, read_write> losses: array<vec2<f32>>;
${workgroupReductions(size, subgroups)}
${rowEntry(size, subgroups)}
  let valid = row < p[0];
  let C = p[1];
  let base = row * C;
  var m = -3.402823e38;
  if (valid) { for (var c = lid; c < C; c += ${size}u) { m = max(m, logits[base + c]); } }
  m = ${reduceCall('wgMax', 'm', subgroups)};
  var s = 0.0;
  if (valid) { for (var c = lid; c < C; c += ${size}u) { s += exp(logits[base + c] - m); } }
  s = ${reduceCall('wgSum', 's', subgroups)};
  if (valid && lid == 0u) {
    let label = targets[row];
    if (label == bitcast<i32>(p[2])) {
      losses[row] = vec2<f32>(0.0, 0.0);
    } else if (label < 0 || u32(label) >= C) {
      losses[row] = vec2<f32>(sqrt(-1.0 - s), 1.0);
    } else {
      losses[row] = vec2<f32>(m + log(s) - logits[base + u32(label)], 1.0);
    }
  }
}`;
}

/** Σ losses / Σ weights over the rows, in one workgroup. Params: [N]. */
export function crossEntropyMeanSource(size: number): string {
  return `${PARAMS}
@group(0) @binding(1) var<storage, read> losses: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read_write> ys: array<f32>;
var<workgroup> partials: array<vec2<f32>, ${size}>;
@compute @workgroup_size(${size})
fn main(@builtin(local_invocation_index) lid: u32) {
  var acc = vec2<f32>(0.0);
  for (var r = lid; r < p[0]; r += ${size}u) { acc += losses[r]; }
  partials[lid] = acc;
  workgroupBarrier();
  for (var s = ${size / 2}u; s > 0u; s >>= 1u) {
    if (lid < s) { partials[lid] += partials[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) { ys[0] = partials[0].x / partials[0].y; }
}`;
}
