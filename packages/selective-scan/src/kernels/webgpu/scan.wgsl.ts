import { bindings, call, enables, MATH, PARAMS, rowEntry, scanMapsSource, scanMemory } from './common';

export interface ScanVariant {
  /** Invocations per workgroup (a power of two) and time steps per invocation: a tile is their product. */
  workgroup: number;
  items: number;
  N: number;
  hasD: boolean;
  hasZ: boolean;
  hasDeltaBias: boolean;
  hasInitialState: boolean;
  deltaSoftplus: boolean;
  subgroups: boolean;
}

/**
 * Forward scan: one workgroup per (batch, channel). L is cut into tiles of workgroup × items
 * steps; in a tile each invocation owns `items` consecutive steps. For every state
 * n: each invocation composes its steps' maps (exp(Δ·A), Δ·B·u), the workgroup scans those, and each
 * invocation then runs its steps from the state the scan gave it, adding C·h into its outputs. The state
 * after the tile (the same in every invocation) carries into the next tile. Softplus, D and the z gate
 * are applied on the way in and out; the state before every multiple of chunkSize is saved.
 *
 * Params: [batch, dim, L, chunkSize, chunks, then offsets into \`side\` of A, D, deltaBias, initialState,
 * lastState, checkpoints]. Bindings: u, delta, B, C, [z], y, side. The small tensors share one buffer
 * (\`side\`) so the kernel stays within WebGPU's default of 8 storage buffers per stage.
 */
export function scanForwardSource(v: ScanVariant): string {
  const size = v.workgroup;
  const items = v.items;
  const list: [string, 'read' | 'read_write'][] = [['us', 'read'], ['deltas', 'read'], ['Bs', 'read'], ['Cs', 'read']];
  if (v.hasZ) list.push(['zs', 'read']);
  list.push(['ys', 'read_write'], ['side', 'read_write']);
  const bias = v.hasDeltaBias ? ' + side[atBias + d]' : '';
  return `${enables(v.subgroups)}${PARAMS}
${bindings(list)}
${MATH}
${scanMemory(size, v.subgroups)}
${scanMapsSource(size, v.subgroups, false)}
${rowEntry(size, v.subgroups)}
  let batch = p[0];
  let dim = p[1];
  let L = p[2];
  let chunkSize = p[3];
  let chunks = p[4];
  let atA = p[5];
  let atD = p[6];
  let atBias = p[7];
  let atInitial = p[8];
  let atLast = p[9];
  let atCheckpoints = p[10];
  if (row >= batch * dim) { return; }
  let b = row / dim;
  let d = row % dim;
  let rowAt = row * L;
  var carry: array<f32, ${v.N}>;
  for (var n = 0u; n < ${v.N}u; n++) { carry[n] = ${v.hasInitialState ? `side[atInitial + row * ${v.N}u + n]` : '0.0'}; }
  var u: array<f32, ${items}>;
  var dt: array<f32, ${items}>;
  var acc: array<f32, ${items}>;
  var decay: array<f32, ${items}>;
  var input: array<f32, ${items}>;
  for (var tile = 0u; tile < L; tile += ${size * items}u) {
    let first = tile + lid * ${items}u;
    for (var j = 0u; j < ${items}u; j++) {
      let t = first + j;
      u[j] = 0.0;
      dt[j] = 0.0;
      acc[j] = 0.0;
      if (t < L) {
        u[j] = us[rowAt + t];
        let raw = deltas[rowAt + t]${bias};
        dt[j] = ${v.deltaSoftplus ? 'softplus(raw)' : 'raw'};
      }
    }
    for (var n = 0u; n < ${v.N}u; n++) {
      let A = side[atA + d * ${v.N}u + n];
      let bcAt = (b * ${v.N}u + n) * L;
      // This invocation's steps as one map; steps past L are the identity.
      var ma = 1.0;
      var mb = 0.0;
      for (var j = 0u; j < ${items}u; j++) {
        let t = first + j;
        decay[j] = 1.0;
        input[j] = 0.0;
        if (t < L) {
          decay[j] = exp(dt[j] * A);
          input[j] = dt[j] * Bs[bcAt + t] * u[j];
        }
        mb = decay[j] * mb + input[j];
        ma = decay[j] * ma;
      }
      let s = ${call('scanMaps', 'ma, mb', v.subgroups)};
      var h = s.x * carry[n] + s.y;
      for (var j = 0u; j < ${items}u; j++) {
        let t = first + j;
        if (t < L) {
          if (t % chunkSize == 0u) { side[atCheckpoints + (row * chunks + t / chunkSize) * ${v.N}u + n] = h; }
          h = decay[j] * h + input[j];
          acc[j] += Cs[bcAt + t] * h;
        }
      }
      carry[n] = s.z * carry[n] + s.w;
    }
    for (var j = 0u; j < ${items}u; j++) {
      let t = first + j;
      if (t < L) {
        var out = acc[j]${v.hasD ? ' + side[atD + d] * u[j]' : ''};
        ${v.hasZ ? 'let zt = zs[rowAt + t];\n        out *= zt * sigmoid(zt);' : ''}
        ys[rowAt + t] = out;
      }
    }
  }
  if (lid == 0u) {
    for (var n = 0u; n < ${v.N}u; n++) { side[atLast + row * ${v.N}u + n] = carry[n]; }
  }
}`;
}
