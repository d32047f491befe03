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
