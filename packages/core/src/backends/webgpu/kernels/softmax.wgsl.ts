import { enables, PARAMS, reduceCall, rowEntry, workgroupReductions } from './common';

/**
 * softmax / logSoftmax along one axis of an [outer, n, inner] view: one workgroup per row (outer·inner
 * rows), max-shifted. Params: [rows, n, inner].
 */
export function softmaxSource(log: boolean, size: number, subgroups: boolean): string {
  return `${enables(subgroups)}${PARAMS}
@group(0) @binding(1) var<storage, read> xs: array<f32>;
@group(0) @binding(2) var<storage, read_write> ys: array<f32>;
${workgroupReductions(size, subgroups)}
${rowEntry(size, subgroups)}
  let valid = row < p[0];
  let n = p[1];
  let inner = p[2];
  let base = (row / inner) * n * inner + row % inner;
  var m = -3.402823e38;
  if (valid) { for (var k = lid; k < n; k += ${size}u) { m = max(m, xs[base + k * inner]); } }
  m = ${reduceCall('wgMax', 'm', subgroups)};
  var s = 0.0;
  if (valid) { for (var k = lid; k < n; k += ${size}u) { s += exp(xs[base + k * inner] - m); } }
  s = ${reduceCall('wgSum', 's', subgroups)};
  if (valid) {
    ${log ? 'let shift = m + log(s);' : 'let scale = 1.0 / s;'}
    for (var k = lid; k < n; k += ${size}u) {
      let at = base + k * inner;
      ys[at] = ${log ? 'xs[at] - shift' : 'exp(xs[at] - m) * scale'};
    }
  }
}`;
}
