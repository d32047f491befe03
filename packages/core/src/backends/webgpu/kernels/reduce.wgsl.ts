import { enables, PARAMS, reduceCall, rowEntry, threadEntry, workgroupReductions } from './common';

export type ReduceOp = 'sum' | 'mean' | 'max' | 'logsumexp';

/** Threads per workgroup when one workgroup reduces one output. */
export const REDUCE_WORKGROUP = 256;

/**
 * Offsets of the kept and the reduced elements, from params laid out as [outCount, count, keptRank,
 * reducedRank, chunks, divisor, keptShape…, keptStrides…, reducedShape…, reducedStrides…].
 */
const OFFSETS = `
fn offsetOf(index: u32, rank: u32, shapeAt: u32) -> u32 {
  var rem = index;
  var offset = 0u;
  for (var d = rank; d > 0u; d--) {
    let k = d - 1u;
    let size = p[shapeAt + k];
    offset += (rem % size) * p[shapeAt + rank + k];
    rem = rem / size;
  }
  return offset;
}
fn keptOffset(o: u32) -> u32 { return offsetOf(o, p[2], 6u); }
fn reducedOffset(r: u32) -> u32 { return offsetOf(r, p[3], 6u + 2u * p[2]); }
`;

// -inf made at run time: WGSL rejects infinities in constant expressions.
const NEG_INF = 'fn negInf() -> f32 { return bitcast<f32>(0xff800000u | (p[0] & 0u)); }';

function finish(op: ReduceOp, acc: string, max: string): string {
  if (op === 'mean') return `${acc} / f32(p[5])`;
  // Infinite (or NaN) maxima pass through, as the cpu kernel does.
  if (op === 'logsumexp') return `select(${max}, ${max} + log(${acc}), abs(${max}) <= 3.402823e38)`;
  return acc;
}

/**
 * sum, mean, max, logsumexp over any set of axes. `thread`: one invocation per output (short
 * reductions, many outputs). `group`: one workgroup per output, or per chunk of an output when
 * `chunks` > 1 (few outputs of very many elements: the partials are reduced by a second dispatch),
 * with a tree or subgroup reduction. mean divides by `divisor`. max lets NaN win; logsumexp shifts
 * by the max.
 */
export function reduceSource(op: ReduceOp, mode: 'thread' | 'group', subgroups: boolean): string {
  const needsMax = op === 'max' || op === 'logsumexp';
  const header = `${mode === 'group' ? enables(subgroups) : ''}${PARAMS}
@group(0) @binding(1) var<storage, read> xs: array<f32>;
@group(0) @binding(2) var<storage, read_write> ys: array<f32>;
${OFFSETS}
${NEG_INF}
fn maxNan(a: f32, b: f32) -> f32 { return select(a, b, b > a || b != b); }`;
  const term = op === 'logsumexp' ? 'exp(xs[base + reducedOffset(r)] - m)' : 'xs[base + reducedOffset(r)]';
  const sumGuard = op === 'logsumexp' ? ' && abs(m) <= 3.402823e38' : '';
  if (mode === 'thread') {
    return `${header}
${threadEntry(REDUCE_WORKGROUP)}
  if (i >= p[0]) { return; }
  let count = p[1];
  let base = keptOffset(i);
  var m = negInf();
  ${needsMax ? 'for (var r = 0u; r < count; r++) { m = maxNan(m, xs[base + reducedOffset(r)]); }' : ''}
  var acc = 0.0;
  ${op === 'max' ? 'acc = m;' : `${op === 'logsumexp' ? 'if (abs(m) <= 3.402823e38) ' : ''}{ for (var r = 0u; r < count; r++) { acc += ${term}; } }`}
  ys[i] = ${finish(op, 'acc', 'm')};
}`;
  }
  return `${header}
${workgroupReductions(REDUCE_WORKGROUP, subgroups)}
${rowEntry(REDUCE_WORKGROUP, subgroups)}
  let chunks = p[4];
  let valid = row / chunks < p[0];
  let count = p[1];
  let chunkLength = (count + chunks - 1u) / chunks;
  let start = (row % chunks) * chunkLength;
  let end = min(count, start + chunkLength);
  var base = 0u;
  if (valid) { base = keptOffset(row / chunks); }
  var m = negInf();
  ${
    needsMax
      ? `if (valid) { for (var r = start + lid; r < end; r += ${REDUCE_WORKGROUP}u) { m = maxNan(m, xs[base + reducedOffset(r)]); } }
  m = ${reduceCall('wgMax', 'm', subgroups)};`
      : ''
  }
  var acc = 0.0;
  ${
    op === 'max'
      ? 'acc = m;'
      : `if (valid${sumGuard}) { for (var r = start + lid; r < end; r += ${REDUCE_WORKGROUP}u) { acc += ${term}; } }
  acc = ${reduceCall('wgSum', 'acc', subgroups)};`
  }
  if (valid && lid == 0u) { ys[row] = ${finish(op, 'acc', 'm')}; }
}`;
}

/**
 * argmax along one axis of an [outer, n, inner] view: the first maximum, NaN counting as the maximum.
 * `thread`: one invocation per output (short axes). `group`: one workgroup per output; each invocation
 * scans a strided share, then a tree keeps the larger value, or the smaller index on ties.
 * Params: [outCount, n, inner].
 */
export function argmaxSource(mode: 'thread' | 'group'): string {
  const header = `${PARAMS}
@group(0) @binding(1) var<storage, read> xs: array<f32>;
@group(0) @binding(2) var<storage, read_write> ys: array<i32>;
// Whether (v, k) beats (best, bestK): NaN beats numbers; among equals, the first index wins.
fn better(v: f32, k: u32, best: f32, bestK: u32) -> bool {
  if (best != best) { return v != v && k < bestK; }
  if (v != v) { return true; }
  return v > best || (v == best && k < bestK);
}`;
  if (mode === 'thread') {
    return `${header}
${threadEntry(REDUCE_WORKGROUP)}
  if (i >= p[0]) { return; }
  let n = p[1];
  let inner = p[2];
  let base = (i / inner) * n * inner + i % inner;
  var best = 0u;
  var bestValue = xs[base];
  for (var k = 1u; k < n; k++) {
    if (bestValue != bestValue) { break; }
    let v = xs[base + k * inner];
    if (v > bestValue || v != v) { best = k; bestValue = v; }
  }
  ys[i] = i32(best);
}`;
  }
  return `${header}
var<workgroup> values: array<f32, ${REDUCE_WORKGROUP}>;
var<workgroup> indices: array<u32, ${REDUCE_WORKGROUP}>;
${rowEntry(REDUCE_WORKGROUP, false)}
  let valid = row < p[0];
  let n = p[1];
  let inner = p[2];
  let base = (row / inner) * n * inner + row % inner;
  var best = 0.0;
  var bestK = 0xffffffffu;
  if (valid) {
    for (var k = lid; k < n; k += ${REDUCE_WORKGROUP}u) {
      let v = xs[base + k * inner];
      if (bestK == 0xffffffffu || better(v, k, best, bestK)) { best = v; bestK = k; }
    }
  }
  values[lid] = best;
  indices[lid] = bestK;
  workgroupBarrier();
  for (var s = ${REDUCE_WORKGROUP / 2}u; s > 0u; s >>= 1u) {
    if (lid < s && indices[lid + s] != 0xffffffffu
        && (indices[lid] == 0xffffffffu || better(values[lid + s], indices[lid + s], values[lid], indices[lid]))) {
      values[lid] = values[lid + s];
      indices[lid] = indices[lid + s];
    }
    workgroupBarrier();
  }
  if (valid && lid == 0u) { ys[row] = i32(indices[0]); }
}`;
}
