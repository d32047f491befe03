import { enables, PARAMS, reduceCall, rowEntry, workgroupReductions } from './common';

/** Invocations per output of the matrix-vector kernel. */
export const GEMV_WORKGROUP = 64;
/** Most rows of A it takes (decoding: one row per sequence). */
export const GEMV_MAX_ROWS = 4;

/**
 * y = A·Bᵀ for a few rows of A (M ≤ GEMV_MAX_ROWS), A [M, K] and B [N, K] row-major: one workgroup per
 * output column n walks B's row n (16-byte loads where K % 4 = 0) against the M rows of A and sums over the
 * workgroup. The tiled matmul gives such a product only ⌈N / 64⌉ workgroups (12 for a 768-wide output),
 * too few to stream B at the memory's speed; this gives N. Params: [M, N, K / width].
 */
export function gemvSource(M: number, vec4: boolean, subgroups: boolean): string {
  const T = vec4 ? 'vec4<f32>' : 'f32';
  const product = (x: string, w: string) => (vec4 ? `dot(${x}, ${w})` : `${x} * ${w}`);
  const rows = Array.from({ length: M }, (_, m) => m);
  return `${enables(subgroups)}${PARAMS}
@group(0) @binding(1) var<storage, read> a: array<${T}>;
@group(0) @binding(2) var<storage, read> b: array<${T}>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
${workgroupReductions(GEMV_WORKGROUP, subgroups)}
${rowEntry(GEMV_WORKGROUP, subgroups)}
  let N = p[1];
  let K = p[2];
  // Workgroups past N compute on the last column and write nothing (the reductions need every invocation).
  let n = min(row, N - 1u);
${rows.map((m) => `  var acc${m} = 0.0;`).join('\n')}
  for (var k = lid; k < K; k += ${GEMV_WORKGROUP}u) {
    let w = b[n * K + k];
${rows.map((m) => `    acc${m} += ${product(`a[${m}u * K + k]`, 'w')};`).join('\n')}
  }
${rows.map((m) => `  let total${m} = ${reduceCall('wgSum', `acc${m}`, subgroups)};`).join('\n')}
  if (lid == 0u && row < N) {
${rows.map((m) => `    y[${m}u * N + n] = total${m};`).join('\n')}
  }
}`;
}
