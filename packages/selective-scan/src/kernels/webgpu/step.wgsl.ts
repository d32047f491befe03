import { bindings, MATH, PARAMS } from './common';

export const STEP_WORKGROUP = 64;

export interface StepVariant {
  N: number;
  hasD: boolean;
  hasZ: boolean;
  hasDtBias: boolean;
  dtSoftplus: boolean;
}

/**
 * One decoding step, one invocation per (batch, channel): the state is read and written in place.
 * Params: [batch, dim, then the offsets of A, B, C, D, dtBias in \`side\`]. Bindings: state (read_write),
 * x, dt, side, [z], out (the small inputs share \`side\`: WebGPU's default is 8 storage buffers per stage).
 */
export function stateUpdateSource(v: StepVariant): string {
  const list: [string, 'read' | 'read_write'][] = [['state', 'read_write'], ['xs', 'read'], ['dts', 'read'], ['side', 'read']];
  if (v.hasZ) list.push(['zs', 'read']);
  list.push(['outs', 'read_write']);
  return `${PARAMS}
${bindings(list)}
${MATH}
@compute @workgroup_size(${STEP_WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * ${STEP_WORKGROUP}u + lid;
  let dim = p[1];
  if (i >= p[0] * dim) { return; }
  let b = i / dim;
  let atA = p[2];
  let atB = p[3];
  let atC = p[4];
  let atD = p[5];
  let atBias = p[6];
  let d = i % dim;
  let raw = dts[i]${v.hasDtBias ? ' + side[atBias + d]' : ''};
  let dt = ${v.dtSoftplus ? 'softplus(raw)' : 'raw'};
  let x = xs[i];
  var acc = 0.0;
  for (var n = 0u; n < ${v.N}u; n++) {
    let h = exp(dt * side[atA + d * ${v.N}u + n]) * state[i * ${v.N}u + n] + dt * side[atB + b * ${v.N}u + n] * x;
    state[i * ${v.N}u + n] = h;
    acc += h * side[atC + b * ${v.N}u + n];
  }
  ${v.hasD ? 'acc += side[atD + d] * x;' : ''}
  ${v.hasZ ? 'let zt = zs[i];\n  acc *= zt * sigmoid(zt);' : ''}
  outs[i] = acc;
}`;
}
