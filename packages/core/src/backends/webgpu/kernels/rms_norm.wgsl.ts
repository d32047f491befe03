import { enables, PARAMS, reduceCall, rowEntry, workgroupReductions } from './common';

/** y = x·rsqrt(mean(x²) + eps)·weight over rows of D; one workgroup per row. Params: [rows, D, eps bits]. */
export function rmsNormSource(size: number, subgroups: boolean, residual = false): string {
  // With a residual: s = x + residual is written out (the residual stream) and normalized. Each invocation
  // reads back only the entries it wrote itself, so no barrier is needed between the two loops.
  const input = residual ? 'sums' : 'xs';
  return `${enables(subgroups)}${PARAMS}
@group(0) @binding(1) var<storage, read> xs: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read_write> ys: array<f32>;
${residual ? `@group(0) @binding(4) var<storage, read> residuals: array<f32>;
@group(0) @binding(5) var<storage, read_write> sums: array<f32>;` : ''}
${workgroupReductions(size, subgroups)}
${rowEntry(size, subgroups)}
  let valid = row < p[0];
  let D = p[1];
  let base = row * D;
  var squares = 0.0;
  if (valid) {
    for (var d = lid; d < D; d += ${size}u) {
      ${residual ? 'let v = xs[base + d] + residuals[base + d];\n      sums[base + d] = v;' : 'let v = xs[base + d];'}
      squares += v * v;
    }
  }
  squares = ${reduceCall('wgSum', 'squares', subgroups)};
  if (valid) {
    let scale = inverseSqrt(squares / f32(D) + bitcast<f32>(p[2]));
    for (var d = lid; d < D; d += ${size}u) { ys[base + d] = ${input}[base + d] * scale * weight[d]; }
  }
}`;
}
