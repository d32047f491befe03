import { bindings, MATH, PARAMS } from './common';

export const STEP_WORKGROUP = 64;

export interface StepVariant {
  N: number;
  hasD: boolean;
  hasZ: boolean;
  hasDtBias: boolean;
  dtSoftplus: boolean;
  /**
   * Bind A, B, C, D, dtBias as buffers of their own (needs up to 11 storage buffers per stage) instead of
   * copying them into \`side\` first: one dispatch per step instead of up to six.
   */
  direct: boolean;
}

/**
 * One decoding step, one invocation per (batch, channel): the state is read and written in place.
 * Params: [batch, dim, then (packed) the offsets of A, B, C, D, dtBias in \`side\`]. Bindings: state (read_write),
 * x, dt, side, [z], out (the small inputs share \`side\`: WebGPU's default is 8 storage buffers per stage);
 * or, \`direct\`, state, x, dt, A, B, C, [D], [z], [dtBias], out.
 */
export function stateUpdateSource(v: StepVariant): string {
  const list: [string, 'read' | 'read_write'][] = [['state', 'read_write'], ['xs', 'read'], ['dts', 'read']];
  if (v.direct) {
    list.push(['As', 'read'], ['Bs', 'read'], ['Cs', 'read']);
    if (v.hasD) list.push(['Ds', 'read']);
  } else {
    list.push(['side', 'read']);
  }
  if (v.hasZ) list.push(['zs', 'read']);
  if (v.direct && v.hasDtBias) list.push(['biases', 'read']);
  list.push(['outs', 'read_write']);
  // Packed: the small inputs' offsets in \`side\` (params 2–6); direct binding has no such params.
  const offsets = v.direct ? '' : ['atA', 'atB', 'atC', 'atD', 'atBias'].map((name, k) => `  let ${name} = p[${k + 2}];`).join('\n');
  // A small input at an index: its own buffer, or its region of \`side\`.
  const at = (name: 'A' | 'B' | 'C' | 'D' | 'Bias', index: string) =>
    v.direct ? `${name === 'Bias' ? 'biases' : `${name}s`}[${index}]` : `side[at${name} + ${index}]`;
  return `${PARAMS}
${bindings(list)}
${MATH}
@compute @workgroup_size(${STEP_WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * ${STEP_WORKGROUP}u + lid;
  let dim = p[1];
  if (i >= p[0] * dim) { return; }
  let b = i / dim;
${offsets}
  let d = i % dim;
  let raw = dts[i]${v.hasDtBias ? ` + ${at('Bias', 'd')}` : ''};
  let dt = ${v.dtSoftplus ? 'softplus(raw)' : 'raw'};
  let x = xs[i];
  var acc = 0.0;
  for (var n = 0u; n < ${v.N}u; n++) {
    let h = exp(dt * ${at('A', `d * ${v.N}u + n`)}) * state[i * ${v.N}u + n] + dt * ${at('B', `b * ${v.N}u + n`)} * x;
    state[i * ${v.N}u + n] = h;
    acc += h * ${at('C', `b * ${v.N}u + n`)};
  }
  ${v.hasD ? `acc += ${at('D', 'd')} * x;` : ''}
  ${v.hasZ ? 'let zt = zs[i];\n  acc *= zt * sigmoid(zt);' : ''}
  outs[i] = acc;
}`;
}
