import { bindings, call, enables, MATH, paramLets, PARAMS, rowEntry, scanMapsSource, scanMemory, wgSumSource } from './common';
import type { ScanVariant } from './scan.wgsl';

/** Channels one backward workgroup sums dB and dC over (fewer for large N: their carries live in workgroup memory). */
export function channelsPerBlock(N: number): number {
  return Math.max(1, Math.min(32, Math.floor(512 / N)));
}

/**
 * Backward: one workgroup per (batch, block of channels). Tiles of L (a multiple of the checkpoint
 * spacing, so each starts at a saved state) are visited last to first; within a tile the channels of
 * the block one after another, and for each channel:
 *  1. the states, recomputed per n with the forward's parallel scan from the tile's checkpoint (kept:
 *     the state before each of the invocation's steps and the step's decay), and the output before the
 *     gate (for dz);
 *  2. per n, the reverse-time scan of q_t = a_t·(q_{t+1} + dOut_t·C_t) (the gradient reaching h_{t−1}),
 *     carried from the next tile; from it the gradients of u, Δ, A, B, C at each step.
 * dB and dC (sums over channels) accumulate per invocation over the block's channels and are written
 * as one partial per block; dA, dD, dDeltaBias as one partial per batch; `sumParts` adds them up.
 *
 * WebGPU's default is 8 storage buffers per stage, so tensors share buffers: B and C one (\`BC\`), the
 * small ones another (\`side\`: A, D, deltaBias, checkpoints, dLastState in; partial dA, dD, dDeltaBias
 * and dInitialState out), the outputs a third (\`outs\`: du, ddelta, dz, partial dB, partial dC).
 * Params: [batch, dim, L, spacing, checkpointCount, tile, blocks, channels, then the offsets of A, D,
 * deltaBias, checkpoints, dLastState, partA, partD, partBias, dInitialState in \`side\`, of C in \`BC\`,
 * and of ddelta, dz, partB, partC in \`outs\`]. Bindings: u, delta, dy, BC, [z], side, outs.
 */
export function scanBackwardSource(v: ScanVariant): string {
  const size = v.workgroup;
  const items = v.items;
  const N = v.N;
  const block = channelsPerBlock(N);
  const list: [string, 'read' | 'read_write'][] = [['us', 'read'], ['deltas', 'read'], ['dys', 'read'], ['BC', 'read']];
  if (v.hasZ) list.push(['zs', 'read']);
  list.push(['side', 'read_write'], ['outs', 'read_write']);
  const bias = v.hasDeltaBias ? ' + side[atBias + d]' : '';
  return `${enables(v.subgroups)}${PARAMS}
${bindings(list)}
${MATH}
${scanMemory(size, v.subgroups)}
${scanMapsSource(size, v.subgroups, false)}
${scanMapsSource(size, v.subgroups, true)}
${wgSumSource(size, v.subgroups)}
var<workgroup> carryQ: array<f32, ${block * N}>;
var<workgroup> sumA: array<f32, ${block * N}>;
var<workgroup> sumD: array<f32, ${block}>;
var<workgroup> sumBias: array<f32, ${block}>;
${v.subgroups ? `// One partial dA per subgroup (subgroups have at least 4 invocations) and state.
var<workgroup> sgPartA: array<f32, ${(size / 4) * N}>;` : ''}
${rowEntry(size, v.subgroups)}
${paramLets(['batch', 'dim', 'L', 'spacing', 'checkpointCount', 'tileSize', 'blocks', 'channels', 'atA', 'atD', 'atBias', 'atCheckpoints', 'atDLast', 'atPartA', 'atPartD', 'atPartBias', 'atDInitial', 'atC', 'atDdelta', 'atDz', 'atPartB', 'atPartC'])}
  if (row >= batch * blocks) { return; }
  let b = row / blocks;
  let blk = row % blocks;
  for (var i = lid; i < ${block * N}u; i += ${size}u) {
    let d = blk * channels + i / ${N}u;
    carryQ[i] = 0.0;
    if (i / ${N}u < channels && d < dim) { carryQ[i] = side[atDLast + (b * dim + d) * ${N}u + i % ${N}u]; }
    sumA[i] = 0.0;
  }
  for (var i = lid; i < ${block}u; i += ${size}u) { sumD[i] = 0.0; sumBias[i] = 0.0; }
  workgroupBarrier();

  var u: array<f32, ${items}>;
  var raw: array<f32, ${items}>;
  var dt: array<f32, ${items}>;
  var pre: array<f32, ${items}>;
  var dOut: array<f32, ${items}>;
  var du: array<f32, ${items}>;
  var ddt: array<f32, ${items}>;
  var decay: array<f32, ${items}>;
  var input: array<f32, ${items}>;
  var hPrev: array<f32, ${N * items}>;
  var decays: array<f32, ${N * items}>;
  var dAn: array<f32, ${N}>;
  var nextQ: array<f32, ${N}>;
  var dBacc: array<f32, ${N * items}>;
  var dCacc: array<f32, ${N * items}>;
  let tiles = (L + tileSize - 1u) / tileSize;
  for (var k = tiles; k > 0u; k--) {
    let tileStart = (k - 1u) * tileSize;
    let tileEnd = min(tileStart + tileSize, L);
    let first = tileStart + lid * ${items}u;
    for (var i = 0u; i < ${N * items}u; i++) { dBacc[i] = 0.0; dCacc[i] = 0.0; }
    for (var c = 0u; c < channels; c++) {
      let d = blk * channels + c;
      if (d >= dim) { break; }
      let rowAt = (b * dim + d) * L;
      for (var j = 0u; j < ${items}u; j++) {
        let t = first + j;
        u[j] = 0.0; raw[j] = 0.0; dt[j] = 0.0; pre[j] = 0.0;
        if (t < tileEnd) {
          u[j] = us[rowAt + t];
          raw[j] = deltas[rowAt + t]${bias};
          dt[j] = ${v.deltaSoftplus ? 'softplus(raw[j])' : 'raw[j]'};
          ${v.hasD ? 'pre[j] = side[atD + d] * u[j];' : ''}
        }
      }
      // 1. States from the tile's checkpoint.
      let checkpointAt = ((b * dim + d) * checkpointCount + tileStart / spacing) * ${N}u;
      for (var n = 0u; n < ${N}u; n++) {
        let A = side[atA + d * ${N}u + n];
        let bcAt = (b * ${N}u + n) * L;
        var ma = 1.0;
        var mb = 0.0;
        for (var j = 0u; j < ${items}u; j++) {
          let t = first + j;
          decay[j] = 1.0;
          input[j] = 0.0;
          if (t < tileEnd) {
            decay[j] = exp(dt[j] * A);
            input[j] = dt[j] * BC[bcAt + t] * u[j];
          }
          mb = decay[j] * mb + input[j];
          ma = decay[j] * ma;
        }
        let s = ${call('scanMaps', 'ma, mb', v.subgroups)};
        var h = s.x * side[atCheckpoints + checkpointAt + n] + s.y;
        for (var j = 0u; j < ${items}u; j++) {
          let t = first + j;
          hPrev[n * ${items}u + j] = h;
          decays[n * ${items}u + j] = decay[j];
          if (t < tileEnd) {
            h = decay[j] * h + input[j];
            pre[j] += BC[atC + bcAt + t] * h;
          }
        }
      }
      var dDpart = 0.0;
      for (var j = 0u; j < ${items}u; j++) {
        let t = first + j;
        dOut[j] = 0.0;
        du[j] = 0.0;
        ddt[j] = 0.0;
        if (t < tileEnd) {
          let dy = dys[rowAt + t];
          ${
            v.hasZ
              ? `let zt = zs[rowAt + t];
          let sz = sigmoid(zt);
          outs[atDz + rowAt + t] = dy * pre[j] * sz * (1.0 + zt * (1.0 - sz));
          dOut[j] = dy * zt * sz;`
              : 'dOut[j] = dy;'
          }
          ${v.hasD ? 'du[j] = dOut[j] * side[atD + d];\n          dDpart += dOut[j] * u[j];' : ''}
        }
      }
      // 2. Reverse-time scan of the state gradient, per n.
      for (var n = 0u; n < ${N}u; n++) {
        let A = side[atA + d * ${N}u + n];
        let bcAt = (b * ${N}u + n) * L;
        var ma = 1.0;
        var mb = 0.0;
        for (var jj = ${items}u; jj > 0u; jj--) {
          let j = jj - 1u;
          let t = first + j;
          if (t < tileEnd) {
            let a = decays[n * ${items}u + j];
            mb = a * mb + a * dOut[j] * BC[atC + bcAt + t];
            ma = a * ma;
          }
        }
        let s = ${call('scanMapsReverse', 'ma, mb', v.subgroups)};
        let carry = carryQ[c * ${N}u + n];
        var q = s.x * carry + s.y;
        var dApart = 0.0;
        for (var jj = ${items}u; jj > 0u; jj--) {
          let j = jj - 1u;
          let t = first + j;
          if (t < tileEnd) {
            let a = decays[n * ${items}u + j];
            let Bt = BC[bcAt + t];
            let hp = hPrev[n * ${items}u + j];
            let g = q + dOut[j] * BC[atC + bcAt + t];
            dCacc[n * ${items}u + j] += dOut[j] * (a * hp + dt[j] * Bt * u[j]);
            ddt[j] += g * (A * a * hp + Bt * u[j]);
            dApart += g * dt[j] * a * hp;
            dBacc[n * ${items}u + j] += g * dt[j] * u[j];
            du[j] += g * dt[j] * Bt;
            q = a * g;
          }
        }
        // Written after the n loop: other invocations may not have read this carry yet.
        nextQ[n] = s.z * carry + s.w;
        ${v.subgroups ? `dAn[n] = subgroupAdd(dApart);` : `dAn[n] = wgSum(dApart, lid);`}
      }
      // dA of this channel and tile: the subgroups' sums of every n meet in workgroup memory at once.
      ${
        v.subgroups
          ? `if (sgLane == 0u) { for (var n = 0u; n < ${N}u; n++) { sgPartA[(lid / sgSize) * ${N}u + n] = dAn[n]; } }
      workgroupBarrier();
      for (var n = lid; n < ${N}u; n += ${size}u) {
        var total = 0.0;
        for (var g = 0u; g < ${size}u / sgSize; g++) { total += sgPartA[g * ${N}u + n]; }
        sumA[c * ${N}u + n] += total;
      }`
          : `if (lid == 0u) { for (var n = 0u; n < ${N}u; n++) { sumA[c * ${N}u + n] += dAn[n]; } }`
      }
      if (lid == 0u) { for (var n = 0u; n < ${N}u; n++) { carryQ[c * ${N}u + n] = nextQ[n]; } }
      var biasPart = 0.0;
      for (var j = 0u; j < ${items}u; j++) {
        let t = first + j;
        if (t < tileEnd) {
          let g = ${v.deltaSoftplus ? 'ddt[j] * softplusGrad(raw[j])' : 'ddt[j]'};
          outs[rowAt + t] = du[j];
          outs[atDdelta + rowAt + t] = g;
          biasPart += g;
        }
      }
      ${v.hasD ? `let dD = ${call('wgSum', 'dDpart', v.subgroups)};\n      if (lid == 0u) { sumD[c] += dD; }` : ''}
      ${v.hasDeltaBias ? `let dBias = ${call('wgSum', 'biasPart', v.subgroups)};\n      if (lid == 0u) { sumBias[c] += dBias; }` : ''}
      workgroupBarrier();
    }
    for (var n = 0u; n < ${N}u; n++) {
      let partAt = ((b * blocks + blk) * ${N}u + n) * L;
      for (var j = 0u; j < ${items}u; j++) {
        let t = first + j;
        if (t < tileEnd) {
          outs[atPartB + partAt + t] = dBacc[n * ${items}u + j];
          outs[atPartC + partAt + t] = dCacc[n * ${items}u + j];
        }
      }
    }
  }
  workgroupBarrier();
  for (var i = lid; i < channels * ${N}u; i += ${size}u) {
    let d = blk * channels + i / ${N}u;
    if (d < dim) {
      side[atPartA + (b * dim + d) * ${N}u + i % ${N}u] = sumA[i];
      ${v.hasInitialState ? `side[atDInitial + (b * dim + d) * ${N}u + i % ${N}u] = carryQ[i];` : ''}
    }
  }
  for (var c = lid; c < channels; c += ${size}u) {
    let d = blk * channels + c;
    if (d < dim) {
      ${v.hasD ? 'side[atPartD + b * dim + d] = sumD[c];' : ''}
      ${v.hasDeltaBias ? 'side[atPartBias + b * dim + d] = sumBias[c];' : ''}
    }
  }
}`;
}

export const SUM_PARTS_WORKGROUP = 256;

/**
 * out[o, r] = Σ_k parts[at + (o, k, r)]: the partial sums of the backward, added up. Params
 * [count, inner, parts, at] (count = outer · inner).
 */
export function sumPartsSource(): string {
  return `${PARAMS}
@group(0) @binding(1) var<storage, read> parts: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(${SUM_PARTS_WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * ${SUM_PARTS_WORKGROUP}u + lid;
  if (i >= p[0]) { return; }
  let inner = p[1];
  let count = p[2];
  let o = i / inner;
  let r = i % inner;
  var total = 0.0;
  for (var k = 0u; k < count; k++) { total += parts[p[3] + (o * count + k) * inner + r]; }
  out[i] = total;
}`;
}
