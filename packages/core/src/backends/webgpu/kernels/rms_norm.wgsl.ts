import { enables, PARAMS, reduceCall, rowEntry, workgroupReductions } from './common';

/** y = x·rsqrt(mean(x²) + eps)·weight over rows of D; one workgroup per row. Params: [rows, D, eps bits]. */
export function rmsNormSource(size: number, subgroups: boolean): string {
  return `${enables(subgroups)}${PARAMS}
@group(0) @binding(1) var<storage, read> xs: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read_write> ys: array<f32>;
${workgroupReductions(size, subgroups)}
${rowEntry(size, subgroups)}
  let valid = row < p[0];
  let D = p[1];
  let base = row * D;
  var squares = 0.0;
  if (valid) { for (var d = lid; d < D; d += ${size}u) { let v = xs[base + d]; squares += v * v; } }
  squares = ${reduceCall('wgSum', 'squares', subgroups)};
  if (valid) {
    let scale = inverseSqrt(squares / f32(D) + bitcast<f32>(p[2]));
    for (var d = lid; d < D; d += ${size}u) { ys[base + d] = xs[base + d] * scale * weight[d]; }
  }
}`;
}
