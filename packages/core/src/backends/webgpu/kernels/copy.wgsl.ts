import { PARAMS, threadEntry } from './common';

export const COPY_WORKGROUP = 256;

/**
 * The data-movement kernel behind transpose, slice, broadcastTo, concat and pad: walks the index
 * space `shape` and copies 32-bit words from inBase + Σ index·inStrides to outBase + Σ index·outStrides.
 * Params: [n, rank, inBase, outBase, shape…, inStrides…, outStrides…].
 */
export function stridedCopySource(): string {
  return `${PARAMS}
@group(0) @binding(1) var<storage, read> xs: array<u32>;
@group(0) @binding(2) var<storage, read_write> ys: array<u32>;
${threadEntry(COPY_WORKGROUP)}
  if (i >= p[0]) { return; }
  let rank = p[1];
  var rem = i;
  var inOffset = p[2];
  var outOffset = p[3];
  for (var d = rank; d > 0u; d--) {
    let k = d - 1u;
    let index = rem % p[4u + k];
    rem = rem / p[4u + k];
    inOffset += index * p[4u + rank + k];
    outOffset += index * p[4u + 2u * rank + k];
  }
  ys[outOffset] = xs[inOffset];
}`;
}

/** Fills n words with one value. Params: [n, bits]. */
export function fillSource(): string {
  return `${PARAMS}
@group(0) @binding(1) var<storage, read_write> ys: array<u32>;
${threadEntry(COPY_WORKGROUP)}
  if (i >= p[0]) { return; }
  ys[i] = p[1];
}`;
}

/** Most pieces one split dispatch writes (with the input and the parameters, within 8 storage buffers). */
export const SPLIT_PIECES = 6;

/**
 * Up to SPLIT_PIECES pieces of x along an axis in one pass: each word of x goes to the piece its axis
 * index falls in. Params: [n, axisLength·inner, inner, then per piece its first axis index and size].
 */
export function splitSource(pieces: number): string {
  const outs = Array.from({ length: pieces }, (_, k) => `@group(0) @binding(${k + 2}) var<storage, read_write> y${k}: array<u32>;`).join('\n');
  const branches = Array.from({ length: pieces }, (_, k) => `  if (a >= p[${3 + 2 * k}u] && a < p[${3 + 2 * k}u] + p[${4 + 2 * k}u]) {
    y${k}[(outer * p[${4 + 2 * k}u] + a - p[${3 + 2 * k}u]) * p[2] + j] = xs[i];
  }`).join('\n');
  return `${PARAMS}
@group(0) @binding(1) var<storage, read> xs: array<u32>;
${outs}
${threadEntry(COPY_WORKGROUP)}
  if (i >= p[0]) { return; }
  let outer = i / p[1];
  let a = (i % p[1]) / p[2];
  let j = i % p[2];
${branches}
}`;
}
