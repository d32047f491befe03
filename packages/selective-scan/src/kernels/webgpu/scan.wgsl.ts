import { bindings, call, enables, MATH, paramLets, PARAMS, rowEntry, scanMapsSource, scanMemory, type ScanOptions } from './common';

export interface ScanVariant extends ScanOptions {
  /** Invocations per workgroup (a power of two) and time steps per invocation: a tile is their product. */
  workgroup: number;
  items: number;
  /**
   * Read u, Δ, B, C, z and write y four steps at a time (vec4): needs L and `items` to be multiples of 4,
   * so that every row starts on a vec4 and no vec4 straddles the end of L.
   */
  vec4: boolean;
  N: number;
  subgroups: boolean;
}

/**
 * Forward scan: one workgroup per (batch, channel). L is cut into tiles of workgroup × items
 * steps; in a tile each invocation owns `items` consecutive steps. For every state n: each invocation
 * composes its steps' maps (exp(Δ·A), Δ·B·u), the workgroup scans those, and each invocation then runs
 * its steps from the state the scan gave it, adding C·h into its outputs. The state after the tile (the
 * same in every invocation) carries into the next tile. Softplus, D and the z gate are applied on the
 * way in and out; the state before every multiple of chunkSize is saved.
 *
 * Params: [batch, dim, L, chunkSize, chunks, then offsets into `side` of A, D, deltaBias, initialState,
 * lastState, checkpoints]. Bindings: u, delta, B, C, [z], y, side. The small tensors share one buffer
 * (`side`) so the kernel stays within WebGPU's default of 8 storage buffers per stage.
 */
export function scanForwardSource(v: ScanVariant): string {
  const size = v.workgroup;
  const items = v.items;
  // Steps per load: a group of W steps is one element of the big arrays.
  const W = v.vec4 ? 4 : 1;
  const type = v.vec4 ? 'vec4<f32>' : 'f32';
  const lane = (value: string, c: string) => (v.vec4 ? `${value}[${c}]` : value);
  const list: [string, 'read' | 'read_write', string][] = [['us', 'read', type], ['deltas', 'read', type], ['Bs', 'read', type], ['Cs', 'read', type]];
  if (v.hasZ) list.push(['zs', 'read', type]);
  list.push(['ys', 'read_write', type], ['side', 'read_write', 'f32']);
  const bias = v.hasDeltaBias ? ' + side[atBias + d]' : '';
  const out = v.vec4 ? 'vec4<f32>(res[0], res[1], res[2], res[3])' : 'res[0]';
  return `${enables(v.subgroups)}${PARAMS}
${bindings(list)}
${MATH}
${scanMemory(size, v.subgroups)}
${scanMapsSource(size, v.subgroups, false)}
${rowEntry(size, v.subgroups)}
${paramLets(['batch', 'dim', 'L', 'chunkSize', 'chunks', 'atA', 'atD', 'atBias', 'atInitial', 'atLast', 'atCheckpoints'])}
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
  var Cn: array<f32, ${items}>;
  for (var tile = 0u; tile < L; tile += ${size * items}u) {
    let first = tile + lid * ${items}u;
    // Steps past L: u = Δ = 0, so their maps are the identity (exp(0) = 1, no input).
    for (var k = 0u; k < ${items / W}u; k++) {
      let t = first + k * ${W}u;
      var uk = ${type}(0.0);
      var rawk = ${type}(0.0);
      if (t < L) {
        uk = us[(rowAt + t) / ${W}u];
        rawk = deltas[(rowAt + t) / ${W}u];
      }
      for (var c = 0u; c < ${W}u; c++) {
        let j = k * ${W}u + c;
        let valid = t + c < L;
        u[j] = ${lane('uk', 'c')};
        let raw = ${lane('rawk', 'c')}${bias};
        dt[j] = select(0.0, ${v.deltaSoftplus ? 'softplus(raw)' : 'raw'}, valid);
        acc[j] = 0.0;
      }
    }
    for (var n = 0u; n < ${v.N}u; n++) {
      let A = side[atA + d * ${v.N}u + n];
      let bcAt = (b * ${v.N}u + n) * L;
      // This invocation's steps as one map.
      var ma = 1.0;
      var mb = 0.0;
      for (var k = 0u; k < ${items / W}u; k++) {
        let t = first + k * ${W}u;
        var Bk = ${type}(0.0);
        var Ck = ${type}(0.0);
        if (t < L) {
          Bk = Bs[(bcAt + t) / ${W}u];
          Ck = Cs[(bcAt + t) / ${W}u];
        }
        for (var c = 0u; c < ${W}u; c++) {
          let j = k * ${W}u + c;
          decay[j] = exp(dt[j] * A);
          input[j] = dt[j] * ${lane('Bk', 'c')} * u[j];
          Cn[j] = ${lane('Ck', 'c')};
          mb = decay[j] * mb + input[j];
          ma = decay[j] * ma;
        }
      }
      let s = ${call('scanMaps', 'ma, mb', v.subgroups)};
      var h = s.x * carry[n] + s.y;
      for (var j = 0u; j < ${items}u; j++) {
        let t = first + j;
        if (t < L) {
          if (t % chunkSize == 0u) { side[atCheckpoints + (row * chunks + t / chunkSize) * ${v.N}u + n] = h; }
          h = decay[j] * h + input[j];
          acc[j] += Cn[j] * h;
        }
      }
      carry[n] = s.z * carry[n] + s.w;
    }
    for (var k = 0u; k < ${items / W}u; k++) {
      let t = first + k * ${W}u;
      if (t < L) {
        ${v.hasZ ? `let zk = zs[(rowAt + t) / ${W}u];` : ''}
        var res: array<f32, ${W}>;
        for (var c = 0u; c < ${W}u; c++) {
          let j = k * ${W}u + c;
          var o = acc[j]${v.hasD ? ' + side[atD + d] * u[j]' : ''};
          ${v.hasZ ? `let zt = ${lane('zk', 'c')};\n          o *= zt * sigmoid(zt);` : ''}
          res[c] = o;
        }
        ys[(rowAt + t) / ${W}u] = ${out};
      }
    }
  }
  if (lid == 0u) {
    for (var n = 0u; n < ${v.N}u; n++) { side[atLast + row * ${v.N}u + n] = carry[n]; }
  }
}`;
}
