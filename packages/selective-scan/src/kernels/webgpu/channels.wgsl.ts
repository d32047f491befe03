import { bindings, enables, MATH, paramLets, PARAMS, type ScanOptions } from './common';

/**
 * The channel-parallel forward: when batch × d_inner is large (training batches), there are enough
 * independent (batch, channel, state) recurrences to fill the GPU without splitting time, so each
 * invocation walks all of L for S = N / G states of one channel, in registers, and the G invocations
 * of a channel sum their parts of y (subgroup shuffles, or workgroup memory). Compared with the tile
 * scan (scan.wgsl.ts) there are no workgroup scans and no barriers per state, and every input is read
 * once: it streams. Small batches leave most of the GPU idle this way; they use the tile scan.
 */
export interface ChannelScanVariant extends ScanOptions {
  /** Invocations per workgroup: a multiple of G. */
  workgroup: number;
  /** Invocations per channel (1, 2 or 4) and the states each walks (S = N / G). */
  G: number;
  N: number;
  /**
   * Time steps per block: loaded together, the unit of the y reduction, and a divisor of chunkSize (so
   * checkpoints fall on block starts). A multiple of 4 and of G.
   */
  T: number;
  /** u, Δ, B, C as vec4 loads (L a multiple of 4). */
  vec4: boolean;
  /** Sum y over the G invocations with subgroup shuffles (else workgroup memory and barriers). */
  subgroups: boolean;
}

/** Invocations per channel for N states: the largest of `most` (1, 2 or 4), 2 and 1 that divides N. */
export function invocationsPerChannel(N: number, most = 4): number {
  for (let G = most; G > 1; G /= 2) if (N % G === 0) return G;
  return 1;
}

/** `count` copies of `body(i)`, joined: WGSL loops the compiler must not leave rolled (register arrays). */
export const unroll = (count: number, body: (i: number) => string, separator = '\n'): string =>
  Array.from({ length: count }, (_, i) => body(i)).join(separator);

/**
 * \`array[g·stride + k]\` for the invocation's g < G, as a chain of selects on constant indices: indexing a
 * register array by a runtime value makes the compiler move the whole array to (slow) local memory.
 */
export function pick(array: string, G: number, stride: number, k: number): string {
  let out = `${array}[${k}]`;
  for (let g = 1; g < G; g++) out = `select(${out}, ${array}[${g * stride + k}], g == ${g}u)`;
  return out;
}

/**
 * Loads of T consecutive steps of a row-major (rows, L) array into a register array: vec4 loads when L
 * is a multiple of 4 (rows then start on a vec4), else scalar loads. Steps past L read 0. The index is
 * clamped into the array and the value selected, not branched around: branches per load made
 * SwiftShader's shader compiler hang.
 */
export function loadSteps(v: { vec4: boolean; T: number }, target: string, array: string, at: string, t0: string): string {
  const load = (index: string) => `${array}[min(${index}, arrayLength(&${array}) - 1u)]`;
  if (v.vec4) {
    return unroll(v.T / 4, (k) => `{ let q = select(vec4<f32>(0.0), ${load(`(${at} + ${t0}) / 4u + ${k}u`)}, ${t0} + ${4 * k}u < L);
${unroll(4, (c) => `  ${target}[${4 * k + c}] = q[${c}];`)} }`);
  }
  return unroll(v.T, (j) => `${target}[${j}] = select(0.0, ${load(`${at} + ${t0} + ${j}u`)}, ${t0} + ${j}u < L);`);
}

/**
 * dt[j] for the block's T steps from raw[j] (+ deltaBias, softplus); steps past L get 0. With subgroups, a
 * channel's G invocations each take the softplus of T/G steps and share them by shuffles.
 */
function dtSource(v: ChannelScanVariant, raw: string, bias: string): string {
  const { G, T } = v;
  const perLane = T / G;
  const deltaOf = (x: string) => (v.deltaSoftplus ? `softplus(${x}${bias})` : `${x}${bias}`);
  if (!(v.subgroups && G > 1)) return unroll(T, (j) => `    dt[${j}] = select(0.0, ${deltaOf(`${raw}[${j}]`)}, t0 + ${j}u < L);`);
  return `${unroll(perLane, (k) => `    let mine${k} = ${deltaOf(pick(raw, G, perLane, k))};`)}
${unroll(T, (j) => `    dt[${j}] = select(0.0, subgroupShuffle(mine${j % perLane}, sgLane - g + ${Math.floor(j / perLane)}u), t0 + ${j}u < L);`)}`;
}

/** acc[j] summed over the channel's G invocations, every one of them ending with the whole sum. */
function reduceSource(v: ChannelScanVariant): string {
  const { G, T } = v;
  if (G === 1) return '';
  if (v.subgroups) return unroll(T, (j) => unroll(Math.log2(G), (k) => `acc[${j}] += subgroupShuffleXor(acc[${j}], ${1 << k}u);`, ' '));
  return `workgroupBarrier();
${unroll(T, (j) => `    partY[lid * ${T}u + ${j}u] = acc[${j}];`)}
    workgroupBarrier();
${unroll(T, (j) => `    acc[${j}] = ${unroll(G, (k) => `partY[(lid - g + ${k}u) * ${T}u + ${j}u]`, ' + ')};`)}`;
}

/** The forward's registers: A and the state of the invocation's S states (n = g·S + s), and a block's steps. */
function forwardRegisters(v: ChannelScanVariant): string {
  const S = v.N / v.G;
  return `  var A: array<f32, ${S}>;
  var h: array<f32, ${S}>;
${unroll(S, (s) => `  A[${s}] = side[atA + d * ${v.N}u + g * ${S}u + ${s}u];
  h[${s}] = ${v.hasInitialState ? `side[atInitial + row * ${v.N}u + g * ${S}u + ${s}u]` : '0.0'};`)}
  var nextCheckpoint = 0u;
${['u', 'raw', 'dt', 'acc', 'Bt', 'Ct'].map((name) => `  var ${name}: array<f32, ${v.T}>;`).join('\n')}`;
}

/**
 * Bindings: u, delta, BC (B then C at atC), [z], y, side (A, D, deltaBias, initialState in; lastState out),
 * checkpoints (the state before every multiple of chunkSize: (batch, dim, chunks, N)). Eight storage buffers
 * with the parameters: WebGPU's default limit.
 * Params: [batch, dim, L, chunkSize, chunks, atA, atD, atBias, atInitial, atLast, atC].
 */
export function channelScanForwardSource(v: ChannelScanVariant): string {
  const { G, N, T, workgroup: W } = v;
  const S = N / G;
  const view = v.vec4 ? 'vec4<f32>' : 'f32';
  const list: [string, 'read' | 'read_write', string][] = [['us', 'read', view], ['deltas', 'read', view], ['BC', 'read', view]];
  if (v.hasZ) list.push(['zs', 'read', 'f32']);
  list.push(['ys', 'read_write', 'f32'], ['side', 'read_write', 'f32'], ['checkpoints', 'read_write', 'f32']);
  const bias = v.hasDeltaBias ? ' + side[atBias + d]' : '';
  const perLane = T / G;
  const share = v.subgroups && G > 1;
  const computeDt = dtSource(v, 'raw', bias);
  const reduce = reduceSource(v);
  return `${enables(share)}${PARAMS}
${bindings(list)}
${MATH}
${!v.subgroups && G > 1 ? `var<workgroup> partY: array<f32, ${W * T}>;` : ''}
@compute @workgroup_size(${W})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32${share ? ', @builtin(subgroup_invocation_id) sgLane: u32' : ''}) {
${paramLets(['batch', 'dim', 'L', 'chunkSize', 'chunks', 'atA', 'atD', 'atBias', 'atInitial', 'atLast', 'atC'])}
  let i = (wid.y * nwg.x + wid.x) * ${W}u + lid;
  // Invocations past the last row compute on the last row and write nothing: all reach the barriers.
  let live = i / ${G}u < batch * dim;
  let row = min(i / ${G}u, batch * dim - 1u);
  let g = i % ${G}u;
  let b = row / dim;
  let d = row % dim;
  let rowAt = row * L;
  // This invocation's states n = g·S + s: their A, state, and rows of B and C.
${forwardRegisters(v)}
  var bAt: array<u32, ${S}>;
${unroll(S, (s) => `  bAt[${s}] = (b * ${N}u + g * ${S}u + ${s}u) * L;`)}
  for (var t0 = 0u; t0 < L; t0 += ${T}u) {
${loadSteps(v, 'u', 'us', 'rowAt', 't0')}
${loadSteps(v, 'raw', 'deltas', 'rowAt', 't0')}
${computeDt}
${unroll(T, (j) => `    acc[${j}] = 0.0;`)}
    // chunkSize is a multiple of T: checkpoints fall on block starts.
    if (t0 == nextCheckpoint) {
      if (live) {
${unroll(S, (s) => `        checkpoints[(row * chunks + t0 / chunkSize) * ${N}u + g * ${S}u + ${s}u] = h[${s}];`)}
      }
      nextCheckpoint += chunkSize;
    }
${unroll(S, (s) => `    {
${loadSteps(v, 'Bt', 'BC', `bAt[${s}]`, 't0').replace(/^/gm, '  ')}
${loadSteps(v, 'Ct', 'BC', `atC + bAt[${s}]`, 't0').replace(/^/gm, '  ')}
      var hn = h[${s}];
${unroll(T, (j) => `      hn = exp(dt[${j}] * A[${s}]) * hn + dt[${j}] * u[${j}] * Bt[${j}];
      acc[${j}] += Ct[${j}] * hn;`)}
      h[${s}] = hn;
    }`)}
    ${reduce}
    // Invocation g finishes steps g·T/G … (g+1)·T/G − 1 of the block: D, the gate, the store.
    if (live) {
${unroll(perLane, (k) => `      {
        let t = t0 + g * ${perLane}u + ${k}u;
        if (t < L) {
          var o = ${pick('acc', G, perLane, k)}${v.hasD ? ` + side[atD + d] * ${pick('u', G, perLane, k)}` : ''};
          ${v.hasZ ? 'let zt = zs[rowAt + t];\n          o *= zt * sigmoid(zt);' : ''}
          ys[rowAt + t] = o;
        }
      }`)}
    }
  }
  if (live) {
${unroll(S, (s) => `    side[atLast + row * ${N}u + g * ${S}u + ${s}u] = h[${s}];`)}
  }
}`;
}

/**
 * Entry of a kernel whose workgroup takes `channels` consecutive channels of one batch (workgroup id =
 * b · blocks + blk), G invocations each: b, blk, the invocation's channel c and group g, whether the channel
 * exists (\`live\`), and d and row clamped to the last channel.
 */
export function blockOfChannels(G: number, channels: number): string {
  return `  let wg = wid.y * nwg.x + wid.x;
  if (wg >= batch * blocks) { return; }
  let b = wg / blocks;
  let blk = wg % blocks;
  let c = lid / ${G}u;
  let g = lid % ${G}u;
  let live = blk * ${channels}u + c < dim;
  let d = min(blk * ${channels}u + c, dim - 1u);
  let row = b * dim + d;`;
}

export interface ChannelBackwardVariant extends ChannelScanVariant {
  /** Channels per workgroup (workgroup = channels × G): the dB and dC partial sums are per block of them. */
  channels: number;
  /**
   * The device's one subgroup size, or 0. With it (see \`subgroupReduction\`), a subgroup first sums dB and dC
   * over its own channels by shuffles, so workgroup memory holds one part per subgroup, not per channel.
   */
  subgroupSize: number;
  /** Most blocks of T steps in a checkpoint spacing (their start states are kept per invocation). */
  maxBlocks: number;
}

/** Workgroup memory of the channel-parallel backward, in bytes. */
export function channelBackwardMemory(v: { channels: number; G: number; N: number; T: number; subgroupSize: number }): number {
  const parts = subgroupReduction(v) ? ((v.channels * v.G) / v.subgroupSize) * v.T * 2 * v.N : channelStride(v.channels) * v.T * 2 * v.N;
  return 4 * (parts + 3 * v.channels * v.G * v.T);
}

/**
 * Whether the backward sums dB and dC within subgroups first: the device reports one subgroup size, whole
 * subgroups fit the workgroup, and a lane's 2·S values halve evenly over the subgroup's channels
 * (a reduce-scatter: each shuffle step sends half of what a lane holds and keeps the other half, summed).
 */
export function subgroupReduction(v: { channels: number; G: number; N: number; subgroupSize: number }): boolean {
  const W = v.channels * v.G;
  const Q = v.subgroupSize / v.G;
  return v.subgroupSize >= v.G && W % v.subgroupSize === 0 && Number.isInteger(Q) && ((2 * v.N) / v.G) % Q === 0;
}

/**
 * The backward's per-state registers (n = g·S + s): A, the state gradient q (from dLastState; 0 for
 * channels past dim), dA, the recomputed state h and where the state's B row starts.
 */
export function backwardRegisters(N: number, S: number): string {
  return `  var A: array<f32, ${S}>;
  var q: array<f32, ${S}>;
  var dA: array<f32, ${S}>;
  var h: array<f32, ${S}>;
  var bAt: array<u32, ${S}>;
${unroll(S, (s) => `  A[${s}] = side[atA + d * ${N}u + g * ${S}u + ${s}u];
  q[${s}] = select(0.0, side[atDLast + row * ${N}u + g * ${S}u + ${s}u], live);
  dA[${s}] = 0.0;
  bAt[${s}] = (b * ${N}u + g * ${S}u + ${s}u) * L;`)}`;
}

/**
 * The backward's first pass over checkpoint spacing k: from the checkpoint, the state at the start of
 * each block of T steps into `starts`, reading u, Δ and B straight from memory into the register arrays
 * named by `r` (T steps each). With `r.A2` (A·log2 e) the decays are exp2(Δ·A2): one multiply less.
 */
export function blockStartsSource(
  v: { N: number; S: number; T: number; vec4: boolean; deltaSoftplus: boolean; hasDeltaBias: boolean },
  r: { u: string; raw: string; dt: string; B: string; A2?: string },
): string {
  const { N, S, T } = v;
  const x = (j: number) => `${r.raw}[${j}]${v.hasDeltaBias ? ' + side[atBias + d]' : ''}`;
  return `${unroll(S, (s) => `    h[${s}] = checkpoints[(row * checkpointCount + k - 1u) * ${N}u + g * ${S}u + ${s}u];`)}
    for (var blockAt = 0u; blockAt < blockCount; blockAt++) {
${unroll(S, (s) => `      starts[blockAt * ${S}u + ${s}u] = h[${s}];`)}
      if (blockAt + 1u == blockCount) { break; }
      let t0 = chunkStart + blockAt * ${T}u;
${loadSteps(v, r.u, 'us', 'rowAt', 't0')}
${loadSteps(v, r.raw, 'deltas', 'rowAt', 't0')}
${unroll(T, (j) => `      ${r.dt}[${j}] = select(0.0, ${v.deltaSoftplus ? `softplus(${x(j)})` : x(j)}, t0 + ${j}u < L);`)}
${unroll(S, (s) => `      {
${loadSteps(v, r.B, 'BC', `bAt[${s}]`, 't0')}
${unroll(T, (j) => `        h[${s}] = ${r.A2 ? `exp2(${r.dt}[${j}] * ${r.A2}[${s}])` : `exp(${r.dt}[${j}] * A[${s}])`} * h[${s}] + ${r.dt}[${j}] * ${r.u}[${j}] * ${r.B}[${j}];`)}
      }`)}
    }`;
}

/** dA (partial per batch) and dInitialState of the invocation's states. */
export function stateGradientWrites(N: number, S: number, hasInitialState: boolean): string {
  return unroll(S, (s) => `    side[atPartA + row * ${N}u + g * ${S}u + ${s}u] = dA[${s}];
    ${hasInitialState ? `side[atDInitial + row * ${N}u + g * ${S}u + ${s}u] = q[${s}];` : ''}`);
}

/**
 * Row length of the backward's dB/dC parts in workgroup memory: channels are the fast index, padded by 2
 * so that the 8 channels × 4 state groups of a 32-wide subgroup store to 32 different banks.
 */
const channelStride = (channels: number) => channels + 2;

/**
 * The channel-parallel backward: one invocation per (batch, channel, group of S states), as the forward.
 * Checkpoint spacings (chunks) are visited last to first; in a chunk each invocation first recomputes the
 * states at the start of each block of T steps, then takes the blocks last to first: recomputes the
 * block's states from the saved start (keeping h_{t−1} and exp(Δ_t·A) per step) and runs the gradient
 * q_t (reaching h_t from later steps) back through it. A state's whole block happens in registers, one
 * state after another.
 *
 * Sums over states (du, dΔ and the pre-gate y that dz needs) meet in workgroup memory, where the G
 * invocations of a channel add them up (each finishing T/G of the steps); sums over channels (dB, dC)
 * meet there too and are written as one partial per (batch, block of channels). dA, dD and dDeltaBias
 * are partial per batch (and per invocation of a channel for dD, dDeltaBias); `sumParts` adds them up.
 *
 * Bindings: u, delta, dy, BC (B then C at atC), [z], side (A, D, deltaBias, dLastState in; partial dA,
 * dD, dDeltaBias and dInitialState out), checkpoints, du, ddelta, [dz], parts (partial dB, then partial dC
 * at atPartC). Params: [batch, dim, L, spacing, checkpointCount, blocks, atA, atD, atBias, atDLast,
 * atPartA, atPartD, atPartBias, atDInitial, atC, atPartC].
 */
export function channelScanBackwardSource(v: ChannelBackwardVariant): string {
  const { G, N, T, channels: CH } = v;
  const W = CH * G;
  const stride = channelStride(CH);
  const S = N / G;
  const shuffled = subgroupReduction(v);
  const P = v.subgroupSize;
  const Q = P / G; // channels per subgroup
  const V = 2 * S; // dB and dC of the lane's states at one step: V[kind·S + s]
  const groups = W / P; // subgroups per workgroup
  // Per step: the lane's V values summed over the subgroup's Q channels, V / Q of them left per lane, stored
  // by (subgroup, step, kind, state). Step k exchanges with the lane o·G away (o = Q/2, Q/4, …, 1): the
  // lower lane keeps the first half of what it holds, the upper the second; \`base\` tracks which.
  const reduceScatter = () => unroll(T, (j) => {
    const lines = [`      {`, `        var base = 0u;`];
    lines.push(unroll(S, (s2) => `        vals[${s2}] = bcB[${j * S + s2}];\n        vals[${S + s2}] = bcC[${j * S + s2}];`));
    let m = V;
    for (let o = Q / 2; o >= 1; o /= 2) {
      const half = m / 2;
      lines.push(`        {
          let upper = (sgLane & ${o * G}u) != 0u;
${unroll(half, (i) => `          { let send = select(vals[${i + half}], vals[${i}], upper);
            vals[${i}] = select(vals[${i}], vals[${i + half}], upper) + subgroupShuffleXor(send, ${o * G}u); }`)}
          base += select(0u, ${half}u, upper);
        }`);
      m = half;
    }
    lines.push(unroll(m, (i) => `        { let k = base + ${i}u;
          bcPart[((lid / ${P}u) * ${T}u + ${j}u) * ${2 * N}u + (k / ${S}u) * ${N}u + g * ${S}u + k % ${S}u] = vals[${i}]; }`));
    lines.push(`      }`);
    return lines.join('\n');
  });
  const view = v.vec4 ? 'vec4<f32>' : 'f32';
  const list: [string, 'read' | 'read_write', string][] = [['us', 'read', view], ['deltas', 'read', view], ['dys', 'read', view], ['BC', 'read', view]];
  if (v.hasZ) list.push(['zs', 'read', view]);
  list.push(['side', 'read_write', 'f32'], ['checkpoints', 'read', 'f32'], ['dus', 'read_write', 'f32'], ['ddeltas', 'read_write', 'f32']);
  if (v.hasZ) list.push(['dzs', 'read_write', 'f32']);
  list.push(['parts', 'read_write', 'f32']);
  const bias = v.hasDeltaBias ? ' + side[atBias + d]' : '';
  const steps = (name: string) => `  var ${name}: array<f32, ${T}>;`;
  return `${enables(shuffled)}${PARAMS}
${bindings(list)}
${MATH}
${shuffled
  ? `// dB and dC per (subgroup, step, kind, state): each subgroup's sum over its channels, summed per block.
var<workgroup> bcPart: array<f32, ${groups * T * 2 * N}>;`
  : `// dB and dC per (step, kind, state, channel): the channels' parts, summed per block.
var<workgroup> bcPart: array<f32, ${stride * T * 2 * N}>;`}
// du, dΔ and pre-gate y per (kind, step, invocation): the states' parts, summed per channel.
var<workgroup> statePart: array<f32, ${3 * W * T}>;
@compute @workgroup_size(${W})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32${shuffled ? ', @builtin(subgroup_invocation_id) sgLane: u32' : ''}) {
${paramLets(['batch', 'dim', 'L', 'spacing', 'checkpointCount', 'blocks', 'atA', 'atD', 'atBias', 'atDLast', 'atPartA', 'atPartD', 'atPartBias', 'atDInitial', 'atC', 'atPartC'])}
  // Channels past dim compute on the last one with zero gradients (so their parts add nothing).
${blockOfChannels(G, CH)}
  let rowAt = row * L;
${backwardRegisters(N, S)}
  var dDsum = 0.0;
  var biasSum = 0.0;
  var starts: array<f32, ${v.maxBlocks * S}>;
${['u', 'raw', 'dt', 'x', 'dy', 'dOut', 'Bt', 'Ct', 'hPrev', 'decay', 'yPart', 'duPart', 'dtPart'].map(steps).join('\n')}
${v.hasZ ? steps('zt') : ''}
${shuffled ? `  var bcB: array<f32, ${T * S}>;
  var bcC: array<f32, ${T * S}>;
  var vals: array<f32, ${V}>;` : ''}
  for (var k = checkpointCount; k > 0u; k--) {
    let chunkStart = (k - 1u) * spacing;
    let blockCount = (min(L - chunkStart, spacing) + ${T - 1}u) / ${T}u;
    // 1. The state at the start of each block of the chunk.
${blockStartsSource({ ...v, S }, { u: 'u', raw: 'raw', dt: 'dt', B: 'Bt' })}
    // 2. The blocks last to first.
    for (var blockAt = blockCount; blockAt > 0u; blockAt--) {
      let t0 = chunkStart + (blockAt - 1u) * ${T}u;
${loadSteps(v, 'u', 'us', 'rowAt', 't0')}
${loadSteps(v, 'raw', 'deltas', 'rowAt', 't0')}
${loadSteps(v, 'dy', 'dys', 'rowAt', 't0')}
${v.hasZ ? loadSteps(v, 'zt', 'zs', 'rowAt', 't0') : ''}
${unroll(T, (j) => `      dt[${j}] = select(0.0, ${v.deltaSoftplus ? `softplus(raw[${j}]${bias})` : `raw[${j}]${bias}`}, t0 + ${j}u < L);
      x[${j}] = dt[${j}] * u[${j}];
      dOut[${j}] = select(0.0, ${v.hasZ ? `dy[${j}] * zt[${j}] * sigmoid(zt[${j}])` : `dy[${j}]`}, live);
      yPart[${j}] = 0.0;
      duPart[${j}] = 0.0;
      dtPart[${j}] = 0.0;`)}
${unroll(S, (s) => `      {
${loadSteps(v, 'Bt', 'BC', `bAt[${s}]`, 't0')}
${loadSteps(v, 'Ct', 'BC', `atC + bAt[${s}]`, 't0')}
        var hn = starts[(blockAt - 1u) * ${S}u + ${s}u];
${unroll(T, (j) => `        hPrev[${j}] = hn;
        decay[${j}] = exp(dt[${j}] * A[${s}]);
        hn = decay[${j}] * hn + x[${j}] * Bt[${j}];
        yPart[${j}] += Ct[${j}] * hn;`)}
        var qs = q[${s}];
${unroll(T, (jj) => {
  const j = T - 1 - jj;
  const at = `(${j * 2 * N}u + g * ${S}u + ${s}u) * ${stride}u + c`;
  return `        {
          let gq = qs + dOut[${j}] * Ct[${j}];
          ${shuffled ? `bcB[${j * S + s}] = gq * x[${j}];` : `bcPart[${at}] = gq * x[${j}];`}
          ${shuffled ? `bcC[${j * S + s}]` : `bcPart[${at} + ${N * stride}u]`} = dOut[${j}] * (decay[${j}] * hPrev[${j}] + x[${j}] * Bt[${j}]);
          dtPart[${j}] += gq * (A[${s}] * decay[${j}] * hPrev[${j}] + Bt[${j}] * u[${j}]);
          dA[${s}] += gq * dt[${j}] * decay[${j}] * hPrev[${j}];
          duPart[${j}] += gq * dt[${j}] * Bt[${j}];
          qs = decay[${j}] * gq;
        }`;
})}
        q[${s}] = qs;
      }`)}
${unroll(T, (j) => `      statePart[${j * W}u + lid] = duPart[${j}];
      statePart[${(T + j) * W}u + lid] = dtPart[${j}];
      statePart[${(2 * T + j) * W}u + lid] = yPart[${j}];`)}
${shuffled ? reduceScatter() : ''}
      workgroupBarrier();
      // The channel's G invocations finish T/G steps each: invocation g steps g + m·G.
${unroll(T / G, (m) => `      {
        let j = g + ${m * G}u;
        let t = t0 + j;
        var du = 0.0;
        var dtSum = 0.0;
        var pre = 0.0;
        for (var k2 = 0u; k2 < ${G}u; k2++) {
          let at = j * ${W}u + c * ${G}u + k2;
          du += statePart[at];
          dtSum += statePart[${T * W}u + at];
          pre += statePart[${2 * T * W}u + at];
        }
        let uj = ${pick('u', G, 1, m * G)};
        let dOutj = ${pick('dOut', G, 1, m * G)};
        if (live && t < L) {
          ${v.hasD ? `du += side[atD + d] * dOutj;
          dDsum += dOutj * uj;
          pre += side[atD + d] * uj;` : ''}
          ${v.hasZ ? `let zj = ${pick('zt', G, 1, m * G)};
          let sz = sigmoid(zj);
          dzs[rowAt + t] = ${pick('dy', G, 1, m * G)} * pre * sz * (1.0 + zj * (1.0 - sz));` : ''}
          let gd = ${v.deltaSoftplus ? `dtSum * softplusGrad(${pick('raw', G, 1, m * G)}${bias})` : 'dtSum'};
          dus[rowAt + t] = du;
          ddeltas[rowAt + t] = gd;
          biasSum += gd;
        }
      }`)}
      // dB and dC of the block's steps, summed over the workgroup's channels.
      for (var o = lid; o < ${T * 2 * N}u; o += ${W}u) {
        var total = 0.0;
        ${shuffled
          ? `for (var sg = 0u; sg < ${groups}u; sg++) { total += bcPart[sg * ${T * 2 * N}u + o]; }`
          : `for (var cc = 0u; cc < ${CH}u; cc++) { total += bcPart[o * ${stride}u + cc]; }`}
        let t = t0 + o / ${2 * N}u;
        let kind = (o / ${N}u) % 2u;
        if (t < L) { parts[kind * atPartC + ((b * blocks + blk) * ${N}u + o % ${N}u) * L + t] = total; }
      }
      workgroupBarrier();
    }
  }
  if (live) {
${stateGradientWrites(N, S, v.hasInitialState)}
    ${v.hasD ? `side[atPartD + (b * ${G}u + g) * dim + d] = dDsum;` : ''}
    ${v.hasDeltaBias ? `side[atPartBias + (b * ${G}u + g) * dim + d] = biasSum;` : ''}
  }
}`;
}

/**
 * The loads of one staged tile starting at step `next` into registers: for each `[register, array]` row,
 * the 16-byte pieces of the workgroup's CH channels (piece e: channel e / quads of the block, quad
 * e % quads of the tile; a row's pieces to consecutive invocations) into `register{k}`; then the batch's
 * B and C pieces into `{bc[0]}{k}` and `{bc[1]}{k}`. Pieces past L or past the workgroup's share read 0.
 */
export function fetchTile(v: { W: number; CH: number; N: number; quads: number }, rows: [string, string][], bc: [string, string], next: string): string {
  const { W, CH, N, quads } = v;
  const load = (array: string, index: string) => `select(vec4<f32>(0.0), ${array}[min(${index}, arrayLength(&${array}) - 1u)], ok)`;
  return `${unroll(Math.ceil((CH * quads) / W), (k) => `    {
      let e = lid + ${k * W}u;
      let ok = e < ${CH * quads}u && ${next} + 4u * (e % ${quads}u) < L;
      let at = ((b * dim + min(blk * ${CH}u + e / ${quads}u, dim - 1u)) * L + ${next}) / 4u + e % ${quads}u;
${rows.map(([r, array]) => `      ${r}${k} = ${load(array, 'at')};`).join('\n')}
    }`)}
${unroll(Math.ceil((N * quads) / W), (k) => `    {
      let e = lid + ${k * W}u;
      let ok = e < ${N * quads}u && ${next} + 4u * (e % ${quads}u) < L;
      let at = ((b * ${N}u + min(e / ${quads}u, ${N - 1}u)) * L + ${next}) / 4u + e % ${quads}u;
      ${bc[0]}${k} = ${load('BC', 'at')};
      ${bc[1]}${k} = ${load('BC', 'atC / 4u + at')};
    }`)}`;
}

/**
 * Stores the B and C pieces `fetchTile` loaded into workgroup memory (bT, cT, rows of RQ vec4s). The rows
 * of state n sit at (n % S)·G + n / S: the G invocations of a channel read rows next to each other.
 */
export function stageBC(v: { W: number; N: number; G: number; quads: number; RQ: number }, bc: [string, string]): string {
  const { W, N, G, quads, RQ } = v;
  const S = N / G;
  return unroll(Math.ceil((N * quads) / W), (k) => `    {
      let e = lid + ${k * W}u;
      let n = e / ${quads}u;
      if (e < ${N * quads}u) {
        bT[((n % ${S}u) * ${G}u + n / ${S}u) * ${RQ}u + e % ${quads}u] = ${bc[0]}${k};
        cT[((n % ${S}u) * ${G}u + n / ${S}u) * ${RQ}u + e % ${quads}u] = ${bc[1]}${k};
      }
    }`);
}

export interface StagedScanVariant extends ScanOptions {
  /** Channels per workgroup (all of one batch): workgroup = channels × G. */
  channels: number;
  /** Invocations per channel; each walks S = N / G states. */
  G: number;
  N: number;
  /** Steps per staged tile: a multiple of \`group\`. */
  tile: number;
  /**
   * Steps walked between two sums of y (4, 8 or 16, at least G, dividing chunkSize): the unit of work without
   * a dependency on another invocation, so more of them give the compiler more to overlap.
   */
  group: number;
  /**
   * Sum y over a channel's G invocations by subgroup shuffles (a reduce-scatter: each ends with the sums of
   * group / G of the group's steps) instead of storing every partial in workgroup memory: G times less of it.
   */
  shuffles: boolean;
}

/**
 * Whether the staged forward stores y straight from the registers where its invocations end the y sums:
 * with shuffles, and where each invocation ends with whole quads of steps.
 */
export const directY = (v: { G: number; group: number; shuffles: boolean }): boolean => v.shuffles && v.G > 1 && (v.group / v.G) % 4 === 0;

/** Workgroup memory of the staged forward, in bytes: tiles of u, Δ, B, C and (unless \`directY\`) y. */
export function stagedForwardMemory(v: { channels: number; G: number; N: number; tile: number; group: number; shuffles: boolean }): number {
  const R = v.tile + 4; // padded rows
  const yRows = directY(v) ? 0 : v.shuffles && v.G > 1 ? v.channels : v.channels * v.G;
  return 4 * (R * (2 * v.channels + 2 * v.N + yRows) + 2 * v.channels);
}

/**
 * The channel-parallel forward with its rows staged through workgroup memory (L a multiple of 4), little
 * in registers and the next tile's loads in flight while a tile is scanned. The invocations of a
 * workgroup take \`channels\` consecutive channels of one batch. Every load of the next tile (u, Δ, z of
 * those channels, B and C of the batch: 16-byte pieces of rows, a row's pieces to consecutive
 * invocations) goes out before the current tile is scanned, so the memory latency hides behind the scan.
 * (A first version kept blocks of 16 steps of six arrays in registers and waited for each tile's loads:
 * at batch 16 it ran two workgroups per SM at a time, 1.02 ms against this one's 0.67.)
 *
 * Per tile: the fetched pieces of u, Δ (through bias and softplus), B and C go to workgroup memory (rows
 * padded so that the vec4 reads of a subgroup's channels fall on different banks). Each invocation walks
 * its S states through the tile \`group\` steps at a time (exp2 with A·log2 e), then its partial y of
 * those steps is summed over the channel's G invocations by a shuffle reduce-scatter, after which each
 * invocation holds the sums of group / G consecutive steps. Where those are whole quads (\`directY\`; the
 * default: 16-step groups over 4 invocations) it adds D·u, gates them with the z it loaded itself (with the
 * tile's other loads) and stores them at once. Otherwise (and without shuffles, where the G partials meet
 * in workgroup memory) the sums go to workgroup memory and a stage-out writes y in 16-byte pieces, gated
 * by z kept in the registers of the invocation that loaded it (the stage-out maps pieces to invocations
 * as the loads do). Workgroup memory is what limits this kernel on the H200 (2 KB more per workgroup
 * measured 23% slower): on the direct path neither y nor z takes any.
 *
 * Bindings and params as \`channelScanForwardSource\` (u, Δ, B·C, z and y as vec4), then blocks (workgroups per batch).
 */
export function stagedScanForwardSource(v: StagedScanVariant): string {
  const { G, N, channels: CH, tile: TT } = v;
  const W = CH * G;
  const S = N / G;
  const quads = TT / 4;
  const RQ = quads + 1; // row stride in vec4s
  const rowPieces = CH * quads;
  const bcPieces = N * quads;
  const rowLoads = Math.ceil(rowPieces / W);
  const bcLoads = Math.ceil(bcPieces / W);
  const list: [string, 'read' | 'read_write', string][] = [['us', 'read', 'vec4<f32>'], ['deltas', 'read', 'vec4<f32>'], ['BC', 'read', 'vec4<f32>']];
  if (v.hasZ) list.push(['zs', 'read', 'vec4<f32>']);
  // Checkpoints as 16-byte stores where an invocation's states come in fours.
  const checkpointVec4 = S % 4 === 0;
  list.push(['ys', 'read_write', 'vec4<f32>'], ['side', 'read_write', 'f32'], ['checkpoints', 'read_write', checkpointVec4 ? 'vec4<f32>' : 'f32']);
  const shuffles = v.shuffles && G > 1;
  const K = v.group;
  const P = K / 4; // quads per group
  // y leaves straight from the registers of the reduce-scatter (each invocation ends with whole quads of
  // steps), gated by z loaded into the same invocation: no y or z in workgroup memory.
  const direct = directY(v);
  const laneQuads = K / G / 4; // quads of y per invocation per group, on the direct path
  const groups = TT / K;
  const rows = v.hasZ && !direct ? ['u', 'd', 'z'] : ['u', 'd'];
  const arrayOf: Record<string, string> = { u: 'us', d: 'deltas', z: 'zs' };
  // z of the invocation's quads of y (direct path): group p's quads p·P + g·laneQuads + i.
  const zAt = (p: number, i: number) => `${p * P}u + g * ${laneQuads}u + ${i}u`;
  const fetchZ = (next: string) => (v.hasZ && direct ? unroll(groups, (p) => unroll(laneQuads, (i) => `    zf${p}_${i} = select(vec4<f32>(0.0), zs[min((row * L + ${next}) / 4u + ${zAt(p, i)}, arrayLength(&zs) - 1u)], ${next} + 4u * (${zAt(p, i)}) < L);`)) : '');
  const fetch = (next: string) => `${fetchTile({ W, CH, N, quads }, rows.map((r) => [r, arrayOf[r]]), ['b', 'c'], next)}\n${fetchZ(next)}`;
  const rawDelta = (k: number) => `d${k}${v.hasDeltaBias ? ' + chanBias[cc]' : ''}`;
  const stage = `${unroll(rowLoads, (k) => `    {
      let e = lid + ${k * W}u;
      let cc = e / ${quads}u;
      let q = e % ${quads}u;
      if (e < ${rowPieces}u) {
        uT[cc * ${RQ}u + q] = u${k};
        ${v.hasZ && !direct ? `zKeep${k} = z${k};` : ''}
        // Steps past L keep Δ = 0 (softplus would not): their updates leave the state as it is.
        dT[cc * ${RQ}u + q] = select(vec4<f32>(0.0), ${v.deltaSoftplus ? `softplus4(${rawDelta(k)})` : rawDelta(k)}, tile + 4u * q < L);
      }
    }`)}
${stageBC({ W, N, G, quads, RQ }, ['b', 'c'])}
${v.hasZ && direct ? unroll(groups, (p) => unroll(laneQuads, (i) => `    zk${p}_${i} = zf${p}_${i};`)) : ''}`;
  // Reduce-scatter of the group's K partial sums y0 … over the G lanes of a channel: each exchange step
  // swaps half of what a lane holds with the lane o away and keeps the other half, summed; lane g ends
  // with the sums of steps g·K/G … (g+1)·K/G − 1.
  const reduceScatter = () => {
    const lines: string[] = [];
    let held = Array.from({ length: K }, (_, k) => `y${k}`);
    for (let o = G / 2; o >= 1; o /= 2) {
      const half = held.length / 2;
      lines.push(`      let hi${o} = (g & ${o}u) != 0u;`);
      const next = held.slice(0, half).map((lower, k) => {
        const upper = held[half + k];
        lines.push(`      let r${o}_${k} = select(${lower}, ${upper}, hi${o}) + subgroupShuffleXor(select(${upper}, ${lower}, hi${o}), ${o}u);`);
        return `r${o}_${k}`;
      });
      held = next;
    }
    return { code: lines.join('\n'), held };
  };
  const stashY = (held: string[]) => held.map((value, k) => `      yS[c * ${TT + 4}u + 4u * q + g * ${K / G}u + ${k}u] = ${value};`).join('\n');
  // Direct path: D·u, the gate and the store of the invocation's quads of group p.
  const writeY = (held: string[], p: number) => unroll(laneQuads, (i) => `      {
        let qq = ${zAt(p, i)};
        var o = vec4<f32>(${held.slice(4 * i, 4 * i + 4).join(', ')});
        ${v.hasD ? `o += chanD[c] * uT[c * ${RQ}u + qq];` : ''}
        ${v.hasZ ? `o *= zk${p}_${i} / (1.0 + exp(-zk${p}_${i}));` : ''}
        if (live && tile + 4u * qq < L) { ys[(row * L + tile) / 4u + qq] = o; }
      }`);
  // One group of K steps from quad q: checkpoint, the walk of the invocation's states, y summed over the
  // channel's invocations (p: the group's index on the direct path, where the groups are unrolled).
  const groupBody = (p: number | null) => {
    const sums = reduceScatter();
    const out = !shuffles ? unroll(P, (p) => `      yP[lid * ${RQ}u + q + ${p}u] = vec4<f32>(${unroll(4, (k) => `y${4 * p + k}`, ', ')});`) : p === null ? `${sums.code}\n${stashY(sums.held)}` : `${sums.code}\n${writeY(sums.held, p)}`;
    return `      // chunkSize is a multiple of the group: checkpoints fall on group starts.
      if (tile + 4u * q == nextCheckpoint) {
        if (live) {
${checkpointVec4
  ? unroll(S / 4, (i) => `          checkpoints[((row * chunks + nextCheckpoint / chunkSize) * ${N}u + g * ${S}u) / 4u + ${i}u] = vec4<f32>(${unroll(4, (k) => `h[${4 * i + k}]`, ', ')});`)
  : unroll(S, (s) => `          checkpoints[(row * chunks + nextCheckpoint / chunkSize) * ${N}u + g * ${S}u + ${s}u] = h[${s}];`)}
        }
        nextCheckpoint += chunkSize;
      }
${unroll(P, (p) => `      let dt${p} = dT[c * ${RQ}u + q + ${p}u];
      let du${p} = dt${p} * uT[c * ${RQ}u + q + ${p}u];`)}
${unroll(K, (k) => `      var y${k} = 0.0;`)}
${unroll(S, (s) => `      {
        var hn = h[${s}];
${unroll(P, (p) => `        {
          let b4 = bT[(${s * G}u + g) * ${RQ}u + q + ${p}u];
          let c4 = cT[(${s * G}u + g) * ${RQ}u + q + ${p}u];
${unroll(4, (k) => `          hn = exp2(dt${p}[${k}] * A[${s}]) * hn + du${p}[${k}] * b4[${k}];
          y${4 * p + k} += c4[${k}] * hn;`)}
        }`)}
        h[${s}] = hn;
      }`)}
${out}`;
  };
  const stageOut = `    // Stage out: y of the tile in 16-byte pieces of rows (no loads from memory here: nothing to wait for).
${unroll(rowLoads, (k) => `    {
      let e = lid + ${k * W}u;
      let cc = e / ${quads}u;
      let qq = e % ${quads}u;
      let t = tile + 4u * qq;
      let dd = blk * ${CH}u + cc;
      if (e < ${rowPieces}u && dd < dim && t < L) {
        var o = ${shuffles ? `vec4<f32>(${unroll(4, (i) => `yS[cc * ${TT + 4}u + 4u * qq + ${i}u]`, ', ')})` : unroll(G, (g) => `yP[(cc * ${G}u + ${g}u) * ${RQ}u + qq]`, ' + ')};
        ${v.hasD ? `o += chanD[cc] * uT[cc * ${RQ}u + qq];` : ''}
        ${v.hasZ ? `let zt = zKeep${k};\n        o *= zt / (1.0 + exp(-zt));` : ''}
        ys[((b * dim + dd) * L + t) / 4u] = o;
      }
    }`)}
`;
  return `${enables(shuffles)}${PARAMS}
${bindings(list)}
${MATH}
fn softplus4(x: vec4<f32>) -> vec4<f32> { return select(max(x, vec4<f32>(0.0)) + log(1.0 + exp(-abs(x))), x, x > vec4<f32>(20.0)); }
var<workgroup> uT: array<vec4<f32>, ${CH * RQ}>;
var<workgroup> dT: array<vec4<f32>, ${CH * RQ}>;
var<workgroup> bT: array<vec4<f32>, ${N * RQ}>;
var<workgroup> cT: array<vec4<f32>, ${N * RQ}>;
${direct ? '' : shuffles ? `var<workgroup> yS: array<f32, ${CH * (TT + 4)}>;` : `var<workgroup> yP: array<vec4<f32>, ${W * RQ}>;`}
var<workgroup> chanD: array<f32, ${CH}>;
var<workgroup> chanBias: array<f32, ${CH}>;
@compute @workgroup_size(${W})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
${paramLets(['batch', 'dim', 'L', 'chunkSize', 'chunks', 'atA', 'atD', 'atBias', 'atInitial', 'atLast', 'atC', 'blocks'])}
  // Channels past dim compute on the last one and write nothing.
${blockOfChannels(G, CH)}
  var A: array<f32, ${S}>;
  var h: array<f32, ${S}>;
${unroll(S, (s) => `  A[${s}] = side[atA + d * ${N}u + g * ${S}u + ${s}u] * 1.4426950408889634;
  h[${s}] = ${v.hasInitialState ? `side[atInitial + row * ${N}u + g * ${S}u + ${s}u]` : '0.0'};`)}
  if (lid < ${CH}u) {
    let dd = min(blk * ${CH}u + lid, dim - 1u);
    chanD[lid] = ${v.hasD ? 'side[atD + dd]' : '0.0'};
    chanBias[lid] = ${v.hasDeltaBias ? 'side[atBias + dd]' : '0.0'};
  }
${unroll(rowLoads, (k) => rows.map((r) => `  var ${r}${k}: vec4<f32>;`).join('\n'))}
${v.hasZ && !direct ? unroll(rowLoads, (k) => `  var zKeep${k}: vec4<f32>;`) : ''}
${v.hasZ && direct ? unroll(groups, (p) => unroll(laneQuads, (i) => `  var zf${p}_${i}: vec4<f32>;\n  var zk${p}_${i}: vec4<f32>;`)) : ''}
${unroll(bcLoads, (k) => `  var b${k}: vec4<f32>;\n  var c${k}: vec4<f32>;`)}
${fetch('0u')}
  workgroupBarrier();
  var nextCheckpoint = 0u;
  for (var tile = 0u; tile < L; tile += ${TT}u) {
${stage}
    workgroupBarrier();
    // The next tile's loads go out now and arrive while this one is scanned.
${fetch(`tile + ${TT}u`)}
    // Steps past L in the last group have Δ = 0 and B = C = 0: they leave the state and y as they are.
    let quadsHere = min(${quads}u, (L - tile) / 4u);
${direct
  ? unroll(groups, (p) => `    if (${p * P}u < quadsHere) {
      let q = ${p * P}u;
${groupBody(p)}
    }`)
  : `    for (var q = 0u; q < quadsHere; q += ${P}u) {
${groupBody(null)}
    }`}
    workgroupBarrier();
${direct ? '' : `${stageOut}    workgroupBarrier();
`}  }
  if (live) {
${unroll(S, (s) => `    side[atLast + row * ${N}u + g * ${S}u + ${s}u] = h[${s}];`)}
  }
}`;
}
