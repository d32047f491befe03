import { bindings, enables, MATH, paramLets, PARAMS, type ScanOptions } from './common';
import { backwardRegisters, blockOfChannels, blockStartsSource, fetchTile, stageBC, stateGradientWrites, unroll } from './channels.wgsl';

/**
 * The channel-parallel backward with its rows staged through workgroup memory, the forward's recipe
 * (`stagedScanForwardSource`) run in reverse: one invocation per (batch, channel, group of S states), a
 * workgroup of `channels` consecutive channels of one batch, tiles of `tile` steps taken last to first
 * (optionally with the next tile's loads in flight while the current one is worked through).
 */
export interface StagedBackwardVariant extends ScanOptions {
  /** Channels per workgroup (workgroup = channels × G): dB and dC leave as one partial per block of them. */
  channels: number;
  /** Invocations per channel (1, 2 or 4); each takes S = N / G states. */
  G: number;
  N: number;
  /** Steps per staged tile: a multiple of 4 and of K that divides the checkpoint spacing. */
  tile: number;
  /** Steps per block (a multiple of 4): a block's states are recomputed from its start and kept in registers. */
  K: number;
  /** Most blocks in a checkpoint spacing (their start states are kept per invocation). */
  maxBlocks: number;
  /** Invocations of a subgroup the shuffles may assume (the device's smallest subgroup size): at least G. */
  lanes: number;
  /** Issue the next tile's loads before working through the current one (else at the top of each tile). */
  prefetch: boolean;
}

/** Workgroup memory of the staged backward, in bytes. */
export function stagedBackwardMemory(v: { channels: number; G: number; N: number; tile: number; lanes: number; hasZ: boolean }): number {
  const RQ = v.tile / 4;
  const rows = v.hasZ ? 5 : 4; // u, Δ, dOut, softplus′, [dz factor]
  const groups = (v.channels * v.G) / v.lanes;
  return 4 * (4 * RQ * (rows * v.channels + 2 * v.N) + groups * 2 * v.N * (v.tile + 1) + 2 * v.channels);
}

/**
 * Code that sums `values` over the invocations `masks` apart (largest first) by subgroup shuffles, as a
 * reduce-scatter: each exchange swaps half of what an invocation holds for the other's half of the same
 * values and keeps the sum, so an invocation ends with `held` (the values from index `base` on) summed over
 * all of them. Once one value is left, exchanges add it whole; then only invocations where `writer` holds
 * store it (the others have copies).
 */
function reduceScatter(prefix: string, values: string[], masks: number[]): { code: string; held: string[]; base: string; writer: string } {
  const lines = [`var ${prefix}Base = 0u;`];
  const writers: string[] = [];
  let held = values;
  for (const m of masks) {
    if (held.length === 1) {
      lines.push(`let ${prefix}${m} = ${held[0]} + subgroupShuffleXor(${held[0]}, ${m}u);`);
      held = [`${prefix}${m}`];
      writers.push(`(lid & ${m}u) == 0u`);
      continue;
    }
    if (held.length % 2) throw new Error(`reduceScatter: ${held.length} values do not halve`);
    const half = held.length / 2;
    const upper = `${prefix}Hi${m}`;
    lines.push(`let ${upper} = (lid & ${m}u) != 0u;`);
    held = held.slice(0, half).map((low, k) => {
      const high = held[half + k];
      lines.push(`let ${prefix}${m}_${k} = select(${low}, ${high}, ${upper}) + subgroupShuffleXor(select(${high}, ${low}, ${upper}), ${m}u);`);
      return `${prefix}${m}_${k}`;
    });
    lines.push(`${prefix}Base += select(0u, ${half}u, ${upper});`);
  }
  return { code: lines.join('\n'), held, base: `${prefix}Base`, writer: writers.join(' && ') || 'true' };
}

/**
 * Checkpoint spacings are visited last to first. In each, every invocation first walks the spacing
 * forward from its checkpoint to the start state of each block of K steps (reading memory directly; kept
 * in a small per-invocation array). Then the spacing's tiles, last to first:
 *
 * - load: the tile's 16-byte pieces (with `prefetch`, issued while the tile before it was worked through);
 * - stage: the tile's u, Δ (through bias and softplus), dOut = dy·silu(z), softplus′ and the dz factor of
 *   its channels, and the batch's B and C, go from registers to workgroup memory (16-byte pieces);
 * - with `prefetch`, the next tile's loads go out;
 * - blocks last to first: per state, the block's K states are recomputed from the block's start and the
 *   state gradient q runs back through them (dA in registers); dB and dC of the block's steps are summed
 *   over the subgroup's channels by shuffles (to workgroup memory), and Σ g·B, the A part of dΔ and the
 *   pre-gate y over the channel's G invocations, each of which ends with K / G of the block's steps: it
 *   turns them into du, dΔ, dz of those steps (Δ, u, D·dOut, the softplus′ and the gate's derivative) and
 *   stores them (dD and dDeltaBias partial per (batch, invocation, channel));
 * - stage-out: dB, dC of the tile summed over the workgroup's subgroups as one partial per (batch, block
 *   of channels).
 *
 * Bindings and params as `channelScanBackwardSource`, with u, Δ, dy, B·C, z and the dB/dC parts as vec4 (L
 * a multiple of 4), and du, dΔ, dz as vectors of K / G steps (up to 4).
 */
export function stagedScanBackwardSource(v: StagedBackwardVariant): string {
  const { G, N, channels: CH, tile: TT, K } = v;
  const W = CH * G;
  const S = N / G;
  const quads = TT / 4;
  // Rows are not padded: at 8-step tiles padding them for banks measured slower (the memory it takes costs
  // more occupancy than the conflicts it saves).
  const RQ = quads;
  const BT = TT + 1; // stride of the dB/dC rows
  const P = v.lanes;
  const Q = P / G; // channels per subgroup
  const groups = W / P;
  const rowPieces = CH * quads;
  const bcPieces = N * quads;
  const outPieces = 2 * N * quads;
  const rowLoads = Math.ceil(rowPieces / W);
  const bcLoads = Math.ceil(bcPieces / W);
  const vec = 'vec4<f32>';
  const list: [string, 'read' | 'read_write', string][] = [['us', 'read', vec], ['deltas', 'read', vec], ['dys', 'read', vec], ['BC', 'read', vec]];
  if (v.hasZ) list.push(['zs', 'read', vec]);
  // Each of a channel's G invocations stores n = K / G steps of du, dΔ, dz per block, as vectors of up to 4.
  const n = K / G;
  const width = Math.min(n, 4);
  const store = width === 1 ? 'f32' : `vec${width}<f32>`;
  list.push(['side', 'read_write', 'f32'], ['checkpoints', 'read', 'f32'], ['dus', 'read_write', store], ['ddeltas', 'read_write', store]);
  if (v.hasZ) list.push(['dzs', 'read_write', store]);
  list.push(['parts', 'read_write', vec]);
  const rows: [string, string][] = [['u', 'us'], ['r', 'deltas'], ['y', 'dys']];
  if (v.hasZ) rows.push(['z', 'zs']);
  const fetch = (next: string) => fetchTile({ W, CH, N, quads }, rows.map(([r, array]) => [`f${r}`, array]), ['fb', 'fc'], next);
  const x = (k: number) => `fr${k}${v.hasDeltaBias ? ' + chanBias[cc]' : ''}`;
  const stage = `${unroll(rowLoads, (k) => `    {
      let e = lid + ${k * W}u;
      let cc = e / ${quads}u;
      let at = cc * ${RQ}u + e % ${quads}u;
      if (e < ${rowPieces}u) {
        // Steps past L keep Δ = 0 and every step of a channel past dim dOut = 0: they add nothing.
        let inL = tile + 4u * (e % ${quads}u) < L;
        let liveC = blk * ${CH}u + cc < dim;
        uT[at] = fu${k};
        dT[at] = select(${vec}(0.0), ${v.deltaSoftplus ? `softplus4(${x(k)})` : x(k)}, inL);
        spT[at] = ${v.deltaSoftplus ? `softplusGrad4(${x(k)})` : `${vec}(1.0)`};
${v.hasZ
  ? `        let sz = 1.0 / (1.0 + exp(-fz${k}));
        oT[at] = select(${vec}(0.0), fy${k} * fz${k} * sz, liveC);
        zfT[at] = fy${k} * sz * (1.0 + fz${k} * (1.0 - sz));`
  : `        oT[at] = select(${vec}(0.0), fy${k}, liveC);`}
      }
    }`)}
${stageBC({ W, N, G, quads, RQ }, ['fb', 'fc'])}`;
  // Step j of the block, as a component of the block's vec4 reads.
  const at = (name: string, j: number) => `${name}${j >> 2}[${j & 3}]`;
  const steps = Array.from({ length: K }, (_, j) => j);
  const channelMasks = Array.from({ length: Math.log2(Q) }, (_, i) => (Q >> (i + 1)) * G);
  const laneMasks = Array.from({ length: Math.log2(G) }, (_, i) => G >> (i + 1));
  const perState = (s: number) => {
    const sums = reduceScatter(`bc${s}_`, [...steps.map((j) => `vb${j}`), ...steps.map((j) => `vc${j}`)], channelMasks);
    return `      {
${unroll(K / 4, (p) => `        let b${p} = bT[(${s * G}u + g) * ${RQ}u + j0 / 4u + ${p}u];
        let c${p} = cT[(${s * G}u + g) * ${RQ}u + j0 / 4u + ${p}u];`)}
        var hn = starts[blockAt * ${S}u + ${s}u];
${unroll(K, (j) => `        let hp${j} = hn;
        let dc${j} = exp2(${at('dt', j)} * A2[${s}]);
        hn = dc${j} * hn + ${at('x', j)} * ${at('b', j)};
        let hs${j} = hn;
        sy${j} += ${at('c', j)} * hn;`)}
        var qs = q[${s}];
${unroll(K, (jj) => {
  const j = K - 1 - jj;
  // With g = the state gradient after step j and w = g·exp(Δ·A)·h_{j−1}: dA += w·Δ, dΔ gets A·w here
  // and u·Σ g·B after the sums (as du = Δ·Σ g·B: Δ and u are the same for every state), dC = dOut·h_j.
  return `        let gq${j} = qs + ${at('o', j)} * ${at('c', j)};
        let w${j} = gq${j} * (dc${j} * hp${j});
        dA[${s}] += w${j} * ${at('dt', j)};
        sdt${j} += A[${s}] * w${j};
        sgb${j} += gq${j} * ${at('b', j)};
        let vb${j} = gq${j} * ${at('x', j)};
        let vc${j} = ${at('o', j)} * hs${j};
        qs = dc${j} * gq${j};`;
})}
        q[${s}] = qs;
        // dB and dC of the block's steps for state n = g·S + ${s}, summed over the subgroup's channels.
${sums.code.replace(/^/gm, '        ')}
        if (${sums.writer}) {
${unroll(sums.held.length, (i) => `          { let slot = ${sums.base} + ${i}u;
            bcPart[(((lid / ${P}u) * 2u + slot / ${K}u) * ${N}u + g * ${S}u + ${s}u) * ${BT}u + j0 + slot % ${K}u] = ${sums.held[i]}; }`)}
        }
      }`;
  };
  // Σ g·B, the A·w part of dΔ and the pre-gate y of the block's steps, summed over the channel's G invocations.
  const laneSums = reduceScatter('ls', steps.flatMap((j) => [`sgb${j}`, `sdt${j}`, `sy${j}`]), laneMasks);
  // The channel's invocation g ends with the sums of steps g·n … g·n + n − 1 of the block (n = K / G), which
  // it finishes and stores itself: D·dOut, softplus′ and the gate's derivative from the tile's rows, 16-byte
  // (or 8- or 4-byte) stores. (Staging them through workgroup memory for whole-row stores took 30% more of
  // it, and workgroup memory is what limits this kernel.)
  if (laneSums.held.length !== 3 * n) throw new Error(`staged backward: ${laneSums.held.length} sums per invocation, not ${3 * n}`);
  const component = (name: string, j: string) => `${name}[c * ${RQ}u + (${j}) / 4u][(${j}) % 4u]`;
  const finishSteps = unroll(n / width, (m) => `        {
          let j = j0 + g * ${n}u + ${m * width}u;
${unroll(width, (i) => `          let o${i} = ${component('oT', `j + ${i}u`)};
          let u${i} = ${component('uT', `j + ${i}u`)};
          let gb${i} = ${laneSums.held[3 * (m * width + i)]};
          var du${i} = ${component('dT', `j + ${i}u`)} * gb${i};
          let gd${i} = (${laneSums.held[3 * (m * width + i) + 1]} + u${i} * gb${i}) * ${component('spT', `j + ${i}u`)};
          var pre${i} = ${laneSums.held[3 * (m * width + i) + 2]};
${v.hasD ? `          du${i} += chanD[c] * o${i};
          pre${i} += chanD[c] * u${i};
          dDsum += o${i} * u${i};` : ''}
`)}
          // Steps past L (in the last tile) have dOut = 0 but not dΔ = 0: they are left out.
          if (tile + j < L) {
            biasSum += ${unroll(width, (i) => `gd${i}`, ' + ')};
          }
          if (live && tile + j < L) {
            let dst = (row * L + tile + j) / ${width}u;
            dus[dst] = ${store}(${unroll(width, (i) => `du${i}`, ', ')});
            ddeltas[dst] = ${store}(${unroll(width, (i) => `gd${i}`, ', ')});
            ${v.hasZ ? `dzs[dst] = ${store}(${unroll(width, (i) => `${component('zfT', `j + ${i}u`)} * pre${i}`, ', ')});` : ''}
          }
        }`);
  const stageOut = `    // dB and dC of the tile: 16-byte pieces of (kind, state) rows, summed over the subgroups.
    for (var e = lid; e < ${outPieces}u; e += ${W}u) {
      let kind = e / ${N * quads}u;
      let n = (e / ${quads}u) % ${N}u;
      let qq = e % ${quads}u;
      let t = tile + 4u * qq;
      if (t < L) {
        var total = ${vec}(0.0);
        for (var sg = 0u; sg < ${groups}u; sg++) {
          let i = ((sg * 2u + kind) * ${N}u + n) * ${BT}u + 4u * qq;
          total += ${vec}(bcPart[i], bcPart[i + 1u], bcPart[i + 2u], bcPart[i + 3u]);
        }
        parts[(kind * atPartC + ((b * blocks + blk) * ${N}u + n) * L + t) / 4u] = total;
      }
    }`;
  const fetchRegisters = [
    ...Array.from({ length: rowLoads }, (_, k) => rows.map(([r]) => `f${r}${k}`)).flat(),
    ...Array.from({ length: bcLoads }, (_, k) => [`fb${k}`, `fc${k}`]).flat(),
  ];
  return `${enables(true)}${PARAMS}
${bindings(list)}
${MATH}
fn softplus4(x: vec4<f32>) -> vec4<f32> { return select(max(x, vec4<f32>(0.0)) + log(1.0 + exp(-abs(x))), x, x > vec4<f32>(20.0)); }
fn softplusGrad4(x: vec4<f32>) -> vec4<f32> { return select(1.0 / (1.0 + exp(-x)), vec4<f32>(1.0), x > vec4<f32>(20.0)); }
var<workgroup> uT: array<${vec}, ${CH * RQ}>;
var<workgroup> dT: array<${vec}, ${CH * RQ}>;
var<workgroup> oT: array<${vec}, ${CH * RQ}>;
var<workgroup> spT: array<${vec}, ${CH * RQ}>;
${v.hasZ ? `var<workgroup> zfT: array<${vec}, ${CH * RQ}>;` : ''}
var<workgroup> bT: array<${vec}, ${N * RQ}>;
var<workgroup> cT: array<${vec}, ${N * RQ}>;
// dB and dC per (subgroup, kind, state, step).
var<workgroup> bcPart: array<f32, ${groups * 2 * N * BT}>;
var<workgroup> chanD: array<f32, ${CH}>;
var<workgroup> chanBias: array<f32, ${CH}>;
@compute @workgroup_size(${W})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
${paramLets(['batch', 'dim', 'L', 'spacing', 'checkpointCount', 'blocks', 'atA', 'atD', 'atBias', 'atDLast', 'atPartA', 'atPartD', 'atPartBias', 'atDInitial', 'atC', 'atPartC'])}
  // Channels past dim compute on the last one with dOut = 0 (so they add nothing) and write nothing.
${blockOfChannels(G, CH)}
  let rowAt = row * L;
${backwardRegisters(N, S)}
  // The decays as exp2(Δ·A·log2 e): one multiply less per state and step (1% at batch 8 and 16 on the H200).
  var A2: array<f32, ${S}>;
${unroll(S, (s) => `  A2[${s}] = A[${s}] * 1.4426950408889634;`)}
  if (lid < ${CH}u) {
    let dd = min(blk * ${CH}u + lid, dim - 1u);
    chanD[lid] = ${v.hasD ? 'side[atD + dd]' : '0.0'};
    chanBias[lid] = ${v.hasDeltaBias ? 'side[atBias + dd]' : '0.0'};
  }
  workgroupBarrier();
  var dDsum = 0.0;
  var biasSum = 0.0;
  var starts: array<f32, ${v.maxBlocks * S}>;
${['pu', 'pr', 'pd', 'pb'].map((name) => `  var ${name}: array<f32, ${K}>;`).join('\n')}
${fetchRegisters.map((r) => `  var ${r}: ${vec};`).join('\n')}
  for (var k = checkpointCount; k > 0u; k--) {
    let chunkStart = (k - 1u) * spacing;
    let chunkEnd = min(L, chunkStart + spacing);
    let blockCount = (chunkEnd - chunkStart + ${K - 1}u) / ${K}u;
    // 1. The state at the start of each block of the spacing.
${blockStartsSource({ N, S, T: K, vec4: true, deltaSoftplus: v.deltaSoftplus, hasDeltaBias: v.hasDeltaBias }, { u: 'pu', raw: 'pr', dt: 'pd', B: 'pb', A2: 'A2' })}
    // 2. The tiles of the spacing, last to first.
    var tile = chunkStart + ((chunkEnd - chunkStart - 1u) / ${TT}u) * ${TT}u;
${v.prefetch ? fetch('tile') : ''}
    loop {
${v.prefetch ? '' : fetch('tile')}
${stage}
      workgroupBarrier();
${v.prefetch ? `      // The next tile's loads go out now and arrive while this one is worked through.
      if (tile > chunkStart) {
${fetch(`tile - ${TT}u`)}
      }` : ''}
      let blocksHere = (min(${TT}u, L - tile) + ${K - 1}u) / ${K}u;
      for (var sb = blocksHere; sb > 0u; sb--) {
        let j0 = (sb - 1u) * ${K}u;
        let blockAt = (tile - chunkStart + j0) / ${K}u;
${unroll(K / 4, (p) => `        let dt${p} = dT[c * ${RQ}u + j0 / 4u + ${p}u];
        let u${p} = uT[c * ${RQ}u + j0 / 4u + ${p}u];
        let o${p} = oT[c * ${RQ}u + j0 / 4u + ${p}u];
        let x${p} = dt${p} * u${p};`)}
${unroll(K, (j) => `        var sgb${j} = 0.0;\n        var sdt${j} = 0.0;\n        var sy${j} = 0.0;`)}
${unroll(S, perState)}
${laneSums.code.replace(/^/gm, '        ')}
${finishSteps}
      }
      workgroupBarrier();
${stageOut}
      workgroupBarrier();
      if (tile == chunkStart) { break; }
      tile -= ${TT}u;
    }
  }
  if (live) {
${stateGradientWrites(N, S, v.hasInitialState)}
    ${v.hasD ? `side[atPartD + (b * ${G}u + g) * dim + d] = dDsum;` : ''}
    ${v.hasDeltaBias ? `side[atPartBias + (b * ${G}u + g) * dim + d] = biasSum;` : ''}
  }
}`;
}
