import { PARAMS } from './common';

export const COPY_WORKGROUP = 256;

/** dst[dstAt + i] = src[srcAt + i] for i < n: packs tensors into shared buffers and unpacks them. Params [n, srcAt, dstAt]. */
export function copySource(): string {
  return `${PARAMS}
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@compute @workgroup_size(${COPY_WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * ${COPY_WORKGROUP}u + lid;
  if (i < p[0]) { dst[p[2] + i] = src[p[1] + i]; }
}`;
}
