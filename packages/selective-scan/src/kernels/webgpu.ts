/**
 * The webgpu kernels: WGSL under ./webgpu/, dispatched through core's webgpu backend (its buffer pool,
 * pipeline cache and command batching). The forward is a chunked parallel scan in workgroup memory
 * (subgroup shuffles where the device has them), the backward recomputes states from the forward's
 * checkpoints tile by tile and scans the state gradient in reverse, and the step updates the state
 * buffer in place.
 */
import { registerKernel, type KernelFn, type TensorInfo, type WebGpuBackend, type WebGpuData } from '@ssmjs/core';
import { SCAN_BACKWARD_KERNEL, SCAN_KERNEL, STATE_UPDATE_KERNEL, optionalSlots, scanDims, type ScanAttrs, type StateUpdateAttrs } from './contract';
import { rowGrid } from './webgpu/common';
import { channelsPerBlock, scanBackwardSource, SUM_PARTS_WORKGROUP, sumPartsSource } from './webgpu/backward.wgsl';
import { scanForwardSource, type ScanVariant } from './webgpu/scan.wgsl';
import { STEP_WORKGROUP, stateUpdateSource } from './webgpu/step.wgsl';
import { COPY_WORKGROUP, copySource } from './webgpu/copy.wgsl';
import {
  channelBackwardMemory, channelScanBackwardSource, channelScanForwardSource, invocationsPerChannel, stagedForwardMemory,
  stagedScanForwardSource, type ChannelBackwardVariant, type ChannelScanVariant, type StagedScanVariant,
} from './webgpu/channels.wgsl';
import { stagedBackwardMemory, stagedScanBackwardSource, type StagedBackwardVariant } from './webgpu/staged-backward.wgsl';

type WebGpuKernel = KernelFn<WebGpuBackend>;

interface Program {
  readonly key: string;
  readonly source: () => string;
}

const programs = new Map<string, Program>();

/** One Program object per variant, so the backend compiles each once. */
function program(key: string, source: () => string): Program {
  let p = programs.get(key);
  if (!p) programs.set(key, (p = { key: `selectiveScan/${key}`, source }));
  return p;
}

const bufferOf = (info: TensorInfo): GPUBuffer => (info.dataId as WebGpuData).buffer;

function output(be: WebGpuBackend, shape: number[]): TensorInfo {
  return { dataId: be.allocate('float32', sizeOf(shape)), shape, dtype: 'float32' };
}

/**
 * Which kernels run and how they are cut. The tile scan (scan.wgsl, backward.wgsl) splits L over a
 * workgroup per channel: for small batches. The channel-parallel kernels (channels.wgsl) give each
 * invocation whole rows of states: for batch × d_inner large enough to fill the GPU without splitting
 * L ('auto': the forward from `channelInvocations` invocations and `channelWork` steps of them on, the backward always, where the
 * device allows them).
 *
 * Tile scan: workgroup sizes (powers of two) and time steps per invocation. A forward tile is
 * workgroup × items steps; the backward keeps the state before each of its items per state, so it
 * takes fewer.
 */
export interface ScanTiling {
  kernels: 'auto' | 'tiles' | 'channels';
  channelInvocations: number;
  /** …and from `channelWork` invocation-steps (invocations × L) on. */
  channelWork: number;
  /**
   * Channel-parallel kernels: forward workgroup size and steps per block (4, 8, 16); backward channels per
   * workgroup and steps per block (4 or 8).
   */
  channelWorkgroup: number;
  channelSteps: number;
  /** Most invocations per channel (1, 2 or 4; the staged forward also 8, with 8-step groups) in the channel-parallel forward. */
  channelGroup: number;
  /** Stage the forward's rows through workgroup memory (where L is a multiple of 4 and the memory fits). */
  channelStaged: boolean;
  /**
   * Staged forward: invocations per workgroup, steps per tile, steps walked between two sums of y (4, 8 or
   * 16: the most that divides chunkSize and the tile, and at least the invocations per channel), and whether y is
   * summed by subgroup shuffles (where a channel's invocations share a subgroup).
   */
  stagedWorkgroup: number;
  stagedTile: number;
  stagedSteps: number;
  stagedShuffles: boolean;
  channelBlock: number;
  channelBackwardSteps: number;
  /** The backward sums dB and dC over a subgroup's channels by shuffles first (where it can). */
  channelShuffles: boolean;
  /**
   * Channel-parallel backward staged through workgroup memory (where the device has subgroups and L is a
   * multiple of 4): steps per tile and per block (a multiple of 4 dividing the tile), whether the next
   * tile's loads go out before the current one is worked through, and the most invocations per channel
   * (1, 2 or 4). It takes channelBlock channels per workgroup.
   */
  stagedBackward: boolean;
  stagedBackwardTile: number;
  stagedBackwardSteps: number;
  stagedBackwardPrefetch: boolean;
  stagedBackwardGroup: number;
  /** The decoding step binds its small inputs directly (where the device has up to 11 storage buffers per stage). */
  stepDirect: boolean;
  forwardWorkgroup: number;
  forwardItems: number;
  backwardWorkgroup: number;
  backwardItems: number;
}

const DEFAULT_TILING: ScanTiling = {
  kernels: 'auto',
  channelInvocations: 8192,
  channelWork: 2 ** 24,
  channelWorkgroup: 128,
  channelSteps: 8,
  channelGroup: 4,
  channelStaged: true,
  // H200, batch 16 × 1536 channels, L 2048 (session 5's lab runs, docs/benchmarks.md): 0.50–0.51 ms with y
  // written straight from the registers, against 0.57 for 64 invocations, 0.54 for 256, 0.84 for 64-step
  // tiles, and 0.61 for session 3's 16-step tiles of 8-step groups.
  stagedWorkgroup: 128,
  stagedTile: 32,
  stagedSteps: 16,
  stagedShuffles: true,
  channelBlock: 32,
  channelBackwardSteps: 4,
  channelShuffles: true,
  stagedBackward: true,
  stagedBackwardTile: 8,
  stagedBackwardSteps: 8,
  stagedBackwardPrefetch: false,
  stagedBackwardGroup: 4,
  stepDirect: true,
  forwardWorkgroup: 128,
  forwardItems: 8,
  backwardWorkgroup: 256,
  backwardItems: 2,
};
let tiling = DEFAULT_TILING;

/** Sets the tiling of later calls (benchmarks compare tilings); no argument restores the default. */
export function setScanTiling(next: Partial<ScanTiling> = {}): void {
  tiling = { ...DEFAULT_TILING, ...next };
}

function variantOf(attrs: ScanAttrs, N: number, L: number, be: WebGpuBackend, workgroup: number, items: number): ScanVariant {
  return {
    workgroup,
    items,
    vec4: L % 4 === 0 && items % 4 === 0,
    N,
    hasD: attrs.hasD,
    hasZ: attrs.hasZ,
    hasDeltaBias: attrs.hasDeltaBias,
    hasInitialState: attrs.hasInitialState,
    deltaSoftplus: attrs.deltaSoftplus,
    subgroups: be.subgroupsFor(workgroup),
  };
}

const variantKey = (v: object) => Object.entries(v).map(([k, x]) => `${k}=${x}`).join(',');

/** Dispatches a flat 1-D kernel of `count` invocations in workgroups of `size` (grid over x and y). */
function flatGrid(count: number, size: number): [number, number, number] {
  return rowGrid(Math.ceil(count / size));
}

/** Copies `n` floats between buffers at float offsets. */
function copy(be: WebGpuBackend, src: GPUBuffer, srcAt: number, dst: GPUBuffer, dstAt: number, n: number): void {
  be.dispatch({ program: program('copy', copySource), params: [n, srcAt, dstAt], buffers: [src, dst], workgroups: flatGrid(n, COPY_WORKGROUP) });
}

/**
 * Several tensors (or empty regions) side by side in one scratch buffer: WebGPU's default allows 8
 * storage buffers per shader stage, fewer than the scan has tensors. `at` gives each one's float offset.
 */
class Packed {
  readonly at: number[] = [];
  readonly buffer: GPUBuffer;
  private readonly be: WebGpuBackend;

  /** `parts`: a tensor to copy in, a number of floats to leave for the kernel, or null (absent: 0 floats). */
  constructor(be: WebGpuBackend, parts: (TensorInfo | number | null)[], temporary: GPUBuffer[]) {
    this.be = be;
    let floats = 0;
    const sizes = parts.map((part) => (part === null ? 0 : typeof part === 'number' ? part : sizeOf(part.shape)));
    for (const size of sizes) {
      this.at.push(floats);
      floats += size;
    }
    this.buffer = be.createBuffer(Math.max(1, floats) * 4);
    temporary.push(this.buffer);
    parts.forEach((part, i) => {
      if (part !== null && typeof part !== 'number') copy(be, bufferOf(part), 0, this.buffer, this.at[i], sizes[i]);
    });
  }

  /** Copies region `i` out into a tensor of `shape`. */
  unpack(i: number, shape: number[]): TensorInfo {
    const out = output(this.be, shape);
    copy(this.be, this.buffer, this.at[i], bufferOf(out), 0, sizeOf(shape));
    return out;
  }
}

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** The optional input at `slot`, or null when it was not given. */
const optional = (inputs: readonly TensorInfo[], slot: number) => (slot >= 0 ? inputs[slot] : null);

/**
 * Records the forward (checkpoints every `chunkSize` steps) and returns y and the `side` buffer that
 * holds lastState (region 4) and the checkpoints (region 5).
 */
function dispatchForward(be: WebGpuBackend, inputs: readonly TensorInfo[], attrs: ScanAttrs, chunkSize: number, temporary: GPUBuffer[]): { y: TensorInfo; side: Packed } {
  const slots = optionalSlots(attrs);
  const { batch, dim, dstate: N, length: L } = scanDims(inputs[0].shape, inputs[2].shape, chunkSize);
  const chunks = Math.ceil(L / chunkSize);
  const side = new Packed(
    be,
    [inputs[2], optional(inputs, slots.D), optional(inputs, slots.deltaBias), optional(inputs, slots.initialState), batch * dim * N, batch * dim * chunks * N],
    temporary,
  );
  const y = output(be, [batch, dim, L]);
  const variant = variantOf(attrs, N, L, be, tiling.forwardWorkgroup, tiling.forwardItems);
  const z = optional(inputs, slots.z);
  be.dispatch({
    program: program(`forward:${variantKey(variant)}`, () => scanForwardSource(variant)),
    params: [batch, dim, L, chunkSize, chunks, ...side.at],
    buffers: [bufferOf(inputs[0]), bufferOf(inputs[1]), bufferOf(inputs[3]), bufferOf(inputs[4]), ...(z ? [bufferOf(z)] : []), bufferOf(y), side.buffer],
    workgroups: rowGrid(batch * dim),
  });
  return { y, side };
}

/** Steps per block of the channel-parallel forward: at most `most`, dividing the checkpoint spacing (null: none). */
function forwardBlock(chunkSize: number, most: number): number | null {
  for (let T = most; T >= 4; T /= 2) if (chunkSize % T === 0) return T;
  return null;
}

/**
 * The device's subgroup size when it has subgroups of one size only (the backward's shuffle reduction is
 * generated for it), else 0; \`channelShuffles: false\` turns the reduction off.
 */
function subgroupSizeOf(be: WebGpuBackend): number {
  if (!be.subgroups || !tiling.channelShuffles) return 0;
  const { min, max } = subgroupSizes(be);
  return min && min === max ? min : 0;
}

/** The subgroup sizes the device reports (0 where it does not say). */
function subgroupSizes(be: WebGpuBackend): { min: number; max: number } {
  const info = (be.device as { adapterInfo?: { subgroupMinSize?: number; subgroupMaxSize?: number } }).adapterInfo;
  return { min: info?.subgroupMinSize ?? 0, max: info?.subgroupMaxSize ?? 0 };
}

/** Whether a kernel binding `count` storage buffers (its parameters included) fits the device. */
const fitsStorageBuffers = (be: WebGpuBackend, count: number) => count <= be.limits.maxStorageBuffersPerShaderStage;

/** Whether the channel-parallel kernels take this call (`backward`: also the backward's limits). */
function useChannels(be: WebGpuBackend, attrs: ScanAttrs, batch: number, dim: number, N: number, L: number, backward: boolean): boolean {
  if (tiling.kernels === 'tiles') return false;
  const G = backward ? invocationsPerChannel(N) : invocationsPerChannel(N, tiling.channelGroup);
  // States per invocation live in registers: at most 16 (forward) or 8 (backward, which keeps more per state).
  if (N / G > (backward ? 8 : 16)) return false;
  if (backward && !stagedBackwardOf(be, attrs, N, L) && !unstagedBackwardFits(be, attrs, N)) return false;
  // The channel-parallel backward measured faster at every shape tried (H200: batch 1–16 × 1536 channels
  // at L 2048, batch 2 and 8 × 512 at L 512). Its forward needs enough rows to fill the GPU and enough steps
  // per row to pay for walking them one by one (tooling/bench/results/2026-11-30-scan14 and scan15): it won
  // from 2 × 1536 channels at L 2048 (0.27 ms to the tile scan's 0.37) and at 16 × 512 with L 512 (0.34 to
  // 0.40), and lost at 1 × 1536 (0.27 to 0.21) and at 8 × 512 with L 512 (0.33 to 0.28).
  const invocations = batch * dim * G;
  return tiling.kernels === 'channels' || backward || (invocations >= tiling.channelInvocations && invocations * L >= tiling.channelWork);
}

// Parameters, u, Δ, dy, B·C, side, checkpoints, du, dΔ, parts, and z and dz when there is a gate.
const backwardBuffers = (attrs: ScanAttrs) => (attrs.hasZ ? 12 : 10);

/** Whether the unstaged channel backward fits the device. */
function unstagedBackwardFits(be: WebGpuBackend, attrs: ScanAttrs, N: number): boolean {
  const G = invocationsPerChannel(N);
  const memory = channelBackwardMemory({ channels: tiling.channelBlock, G, N, T: tiling.channelBackwardSteps, subgroupSize: subgroupSizeOf(be) });
  return memory <= be.limits.maxComputeWorkgroupStorageSize && fitsStorageBuffers(be, backwardBuffers(attrs)) && tiling.channelBlock * G <= be.limits.maxComputeInvocationsPerWorkgroup;
}

/**
 * The staged backward for this call (its maxBlocks still to set), or null where it cannot run: it needs
 * subgroups of at least G invocations (their smallest size is what its shuffles assume), L a multiple of 4,
 * and its workgroup memory and storage buffers within the device's limits.
 */
function stagedBackwardOf(be: WebGpuBackend, attrs: ScanAttrs, N: number, L: number): StagedBackwardVariant | null {
  const G = invocationsPerChannel(N, tiling.stagedBackwardGroup);
  const lanes = be.subgroups ? subgroupSizes(be).min : 0;
  const K = tiling.stagedBackwardSteps;
  const W = tiling.channelBlock * G;
  const v: StagedBackwardVariant = {
    channels: tiling.channelBlock, G, N, tile: tiling.stagedBackwardTile, K, maxBlocks: 0, lanes: Math.min(lanes, W), prefetch: tiling.stagedBackwardPrefetch,
    hasD: attrs.hasD, hasZ: attrs.hasZ, hasDeltaBias: attrs.hasDeltaBias, hasInitialState: attrs.hasInitialState, deltaSoftplus: attrs.deltaSoftplus,
  };
  const fits =
    tiling.stagedBackward && lanes >= G && W % v.lanes === 0 && L % 4 === 0 && N / G <= 8 && K % 4 === 0 && v.tile % K === 0 &&
    W <= be.limits.maxComputeInvocationsPerWorkgroup && fitsStorageBuffers(be, backwardBuffers(attrs)) &&
    stagedBackwardMemory(v) <= be.limits.maxComputeWorkgroupStorageSize;
  return fits ? v : null;
}

/** The channel-parallel forward (chunkSize a multiple of 4): y, lastState and checkpoints as tensors. */
function dispatchChannelForward(
  be: WebGpuBackend, inputs: readonly TensorInfo[], attrs: ScanAttrs, chunkSize: number, temporary: GPUBuffer[],
): { y: TensorInfo; lastState: TensorInfo; checkpoints: TensorInfo } {
  const slots = optionalSlots(attrs);
  const { batch, dim, dstate: N, length: L } = scanDims(inputs[0].shape, inputs[2].shape, chunkSize);
  const chunks = Math.ceil(L / chunkSize);
  // The unstaged forward takes at most 4 invocations per channel; the staged one up to 8.
  const G = invocationsPerChannel(N, Math.min(4, tiling.channelGroup));
  const BC = new Packed(be, [inputs[3], inputs[4]], temporary);
  const side = new Packed(be, [inputs[2], optional(inputs, slots.D), optional(inputs, slots.deltaBias), optional(inputs, slots.initialState), batch * dim * N], temporary);
  const y = output(be, [batch, dim, L]);
  const checkpoints = output(be, [batch, dim, chunks, N]);
  const z = optional(inputs, slots.z);
  const buffers = [bufferOf(inputs[0]), bufferOf(inputs[1]), BC.buffer, ...(z ? [bufferOf(z)] : []), bufferOf(y), side.buffer, bufferOf(checkpoints)];
  const params = [batch, dim, L, chunkSize, chunks, ...side.at.slice(0, 5), BC.at[1]];
  const options = {
    hasD: attrs.hasD, hasZ: attrs.hasZ, hasDeltaBias: attrs.hasDeltaBias, hasInitialState: attrs.hasInitialState, deltaSoftplus: attrs.deltaSoftplus,
  };
  const stagedG = invocationsPerChannel(N, tiling.channelGroup);
  const staged: StagedScanVariant = {
    ...options, G: stagedG, N, channels: tiling.stagedWorkgroup / stagedG, tile: tiling.stagedTile,
    group: [16, 8, 4].find((K) => K <= tiling.stagedSteps && chunkSize % K === 0 && tiling.stagedTile % K === 0)!,
    // A channel's invocations must share a subgroup (of the smallest size the device may run).
    shuffles: tiling.stagedShuffles && be.subgroups && subgroupSizes(be).min >= stagedG,
  };
  if (tiling.channelStaged && L % 4 === 0 && staged.group >= stagedG && stagedForwardMemory(staged) <= be.limits.maxComputeWorkgroupStorageSize) {
    const blocks = Math.ceil(dim / staged.channels);
    be.dispatch({
      program: program(`stagedForward:${variantKey(staged)}`, () => stagedScanForwardSource(staged)),
      params: [...params, blocks],
      buffers,
      workgroups: rowGrid(batch * blocks),
    });
  } else {
    const variant: ChannelScanVariant = {
      ...options, workgroup: tiling.channelWorkgroup, G, N, T: forwardBlock(chunkSize, tiling.channelSteps)!, vec4: L % 4 === 0, subgroups: be.subgroups,
    };
    be.dispatch({
      program: program(`channelForward:${variantKey(variant)}`, () => channelScanForwardSource(variant)),
      params,
      buffers,
      workgroups: flatGrid(batch * dim * G, tiling.channelWorkgroup),
    });
  }
  return { y, lastState: side.unpack(4, [batch, dim, N]), checkpoints };
}

/** Scratch buffers of one call go back to the pool at the end (reused only after the recorded work is submitted). */
function releaseAll(be: WebGpuBackend, temporary: GPUBuffer[]): void {
  for (const buffer of temporary) be.releaseBuffer(buffer);
}

const scanForward: WebGpuKernel = (inputs, rawAttrs, be) => {
  const attrs = rawAttrs as ScanAttrs;
  const { batch, dim, dstate: N, length: L, chunks } = scanDims(inputs[0].shape, inputs[2].shape, attrs.chunkSize);
  const temporary: GPUBuffer[] = [];
  if (attrs.chunkSize % 4 === 0 && useChannels(be, attrs, batch, dim, N, L, false)) {
    const { y, lastState, checkpoints } = dispatchChannelForward(be, inputs, attrs, attrs.chunkSize, temporary);
    releaseAll(be, temporary);
    return [y, lastState, checkpoints];
  }
  const { y, side } = dispatchForward(be, inputs, attrs, attrs.chunkSize, temporary);
  const lastState = side.unpack(4, [batch, dim, N]);
  const checkpoints = side.unpack(5, [batch, dim, chunks, N]);
  releaseAll(be, temporary);
  return [y, lastState, checkpoints];
};

/** out (outer, inner) = Σ over `count` partial sums laid out (outer, count, inner) from float `at` of `parts`. */
function sumParts(be: WebGpuBackend, parts: GPUBuffer, at: number, shape: number[], outer: number, count: number): TensorInfo {
  const out = output(be, shape);
  const total = sizeOf(shape);
  be.dispatch({
    program: program('sumParts', sumPartsSource),
    params: [total, total / outer, count, at],
    buffers: [parts, bufferOf(out)],
    workgroups: flatGrid(total, SUM_PARTS_WORKGROUP),
  });
  return out;
}

/** The most blocks of the channel-parallel backward in one checkpoint spacing (their start states are kept). */
const BACKWARD_MAX_BLOCKS = 16;

/**
 * The channel-parallel backward, staged where it can be. Checkpoint spacings that are not a multiple of
 * its tile (or block) or longer than 16 blocks get checkpoints every 64 steps from one more forward pass.
 */
function channelBackward(be: WebGpuBackend, inputs: readonly TensorInfo[], attrs: ScanAttrs): TensorInfo[] {
  const slots = optionalSlots(attrs);
  const { batch, dim, dstate: N, length: L } = scanDims(inputs[0].shape, inputs[2].shape, attrs.chunkSize);
  const temporary: GPUBuffer[] = [];
  const staged = stagedBackwardOf(be, attrs, N, L);
  const T = staged ? staged.K : tiling.channelBackwardSteps;
  let spacing = attrs.chunkSize;
  let checkpoints = inputs[slots.next];
  const rerun = spacing % (staged ? staged.tile : T) !== 0 || spacing > T * BACKWARD_MAX_BLOCKS;
  if (rerun) {
    // 64: a multiple of every block length (4, 8) and tile (up to 64), and at most BACKWARD_MAX_BLOCKS blocks.
    spacing = 64;
    const forward = dispatchChannelForward(be, inputs, attrs, spacing, temporary);
    be.free(forward.y.dataId);
    be.free(forward.lastState.dataId);
    checkpoints = forward.checkpoints;
  }
  const checkpointCount = Math.ceil(L / spacing);
  // dD and dDeltaBias are partial per (batch, invocation of a channel, channel).
  const G = staged ? staged.G : invocationsPerChannel(N);
  const channels = tiling.channelBlock;
  const blocks = Math.ceil(dim / channels);
  const BC = new Packed(be, [inputs[3], inputs[4]], temporary);
  const side = new Packed(
    be,
    [
      inputs[2], optional(inputs, slots.D), optional(inputs, slots.deltaBias), inputs[slots.next + 2],
      batch * dim * N, attrs.hasD ? batch * G * dim : 0, attrs.hasDeltaBias ? batch * G * dim : 0, attrs.hasInitialState ? batch * dim * N : 0,
    ],
    temporary,
  );
  const partSize = batch * blocks * N * L;
  const parts = be.createBuffer(2 * partSize * 4);
  temporary.push(parts);
  const du = output(be, [batch, dim, L]);
  const ddelta = output(be, [batch, dim, L]);
  const dz = attrs.hasZ ? output(be, [batch, dim, L]) : null;
  let kernel: Program;
  if (staged) {
    const variant = { ...staged, maxBlocks: spacing / T };
    kernel = program(`stagedBackward:${variantKey(variant)}`, () => stagedScanBackwardSource(variant));
  } else {
    const variant: ChannelBackwardVariant = {
      workgroup: channels * G, channels, maxBlocks: spacing / T, G, N, T, vec4: L % 4 === 0,
      hasD: attrs.hasD, hasZ: attrs.hasZ, hasDeltaBias: attrs.hasDeltaBias, hasInitialState: attrs.hasInitialState,
      deltaSoftplus: attrs.deltaSoftplus, subgroups: false, subgroupSize: subgroupSizeOf(be),
    };
    kernel = program(`channelBackward:${variantKey(variant)}`, () => channelScanBackwardSource(variant));
  }
  const z = optional(inputs, slots.z);
  be.dispatch({
    program: kernel,
    params: [batch, dim, L, spacing, checkpointCount, blocks, ...side.at, BC.at[1], partSize],
    buffers: [
      bufferOf(inputs[0]), bufferOf(inputs[1]), bufferOf(inputs[slots.next + 1]), BC.buffer, ...(z ? [bufferOf(z)] : []),
      side.buffer, bufferOf(checkpoints), bufferOf(du), bufferOf(ddelta), ...(dz ? [bufferOf(dz)] : []), parts,
    ],
    workgroups: rowGrid(batch * blocks),
  });
  if (rerun) be.free(checkpoints.dataId);
  const outputs = [
    du,
    ddelta,
    sumParts(be, side.buffer, side.at[4], [dim, N], 1, batch),
    sumParts(be, parts, 0, [batch, N, L], batch, blocks),
    sumParts(be, parts, partSize, [batch, N, L], batch, blocks),
  ];
  if (attrs.hasD) outputs.push(sumParts(be, side.buffer, side.at[5], [dim], 1, batch * G));
  if (dz) outputs.push(dz);
  if (attrs.hasDeltaBias) outputs.push(sumParts(be, side.buffer, side.at[6], [dim], 1, batch * G));
  if (attrs.hasInitialState) outputs.push(side.unpack(7, [batch, dim, N]));
  releaseAll(be, temporary);
  return outputs;
}

const scanBackward: WebGpuKernel = (inputs, rawAttrs, be) => {
  const attrs = rawAttrs as ScanAttrs;
  const slots = optionalSlots(attrs);
  const { batch, dim, dstate: N, length: L, chunks } = scanDims(inputs[0].shape, inputs[2].shape, attrs.chunkSize);
  if (useChannels(be, attrs, batch, dim, N, L, true)) return channelBackward(be, inputs, attrs);
  const temporary: GPUBuffer[] = [];

  // Tiles start at saved states: a multiple of the checkpoint spacing. Spacings longer than a tile
  // get denser checkpoints from one more forward pass.
  const capacity = tiling.backwardWorkgroup * tiling.backwardItems;
  let checkpoints: TensorInfo | number = inputs[slots.next];
  let spacing = attrs.chunkSize;
  let checkpointCount = chunks;
  let dense: Packed | null = null;
  if (spacing > capacity) {
    spacing = capacity;
    checkpointCount = Math.ceil(L / spacing);
    const rerun = dispatchForward(be, inputs, attrs, spacing, temporary);
    be.free(rerun.y.dataId);
    dense = rerun.side;
    checkpoints = batch * dim * checkpointCount * N;
  }
  const tile = Math.floor(capacity / spacing) * spacing;
  const channels = Math.min(channelsPerBlock(N), dim);
  const blocks = Math.ceil(dim / channels);

  const BC = new Packed(be, [inputs[3], inputs[4]], temporary);
  const side = new Packed(
    be,
    [
      inputs[2], optional(inputs, slots.D), optional(inputs, slots.deltaBias), checkpoints, inputs[slots.next + 2],
      batch * dim * N, attrs.hasD ? batch * dim : 0, attrs.hasDeltaBias ? batch * dim : 0, attrs.hasInitialState ? batch * dim * N : 0,
    ],
    temporary,
  );
  if (dense) copy(be, dense.buffer, dense.at[5], side.buffer, side.at[3], batch * dim * checkpointCount * N);
  const big = batch * dim * L;
  const parts = batch * blocks * N * L;
  const outs = new Packed(be, [big, big, attrs.hasZ ? big : 0, parts, parts], temporary);

  const variant = { ...variantOf(attrs, N, L, be, tiling.backwardWorkgroup, tiling.backwardItems), vec4: false };
  const z = optional(inputs, slots.z);
  be.dispatch({
    program: program(`backward:${variantKey(variant)}`, () => scanBackwardSource(variant)),
    params: [batch, dim, L, spacing, checkpointCount, tile, blocks, channels, ...side.at, BC.at[1], ...outs.at.slice(1)],
    buffers: [
      bufferOf(inputs[0]), bufferOf(inputs[1]), bufferOf(inputs[slots.next + 1]), BC.buffer,
      ...(z ? [bufferOf(z)] : []), side.buffer, outs.buffer,
    ],
    workgroups: rowGrid(batch * blocks),
  });

  const outputs = [
    outs.unpack(0, [batch, dim, L]),
    outs.unpack(1, [batch, dim, L]),
    sumParts(be, side.buffer, side.at[5], [dim, N], 1, batch),
    sumParts(be, outs.buffer, outs.at[3], [batch, N, L], batch, blocks),
    sumParts(be, outs.buffer, outs.at[4], [batch, N, L], batch, blocks),
  ];
  if (attrs.hasD) outputs.push(sumParts(be, side.buffer, side.at[6], [dim], 1, batch));
  if (attrs.hasZ) outputs.push(outs.unpack(2, [batch, dim, L]));
  if (attrs.hasDeltaBias) outputs.push(sumParts(be, side.buffer, side.at[7], [dim], 1, batch));
  if (attrs.hasInitialState) outputs.push(side.unpack(8, [batch, dim, N]));
  releaseAll(be, temporary);
  return outputs;
};

const stateUpdate: WebGpuKernel = (inputs, rawAttrs, be) => {
  const attrs = rawAttrs as StateUpdateAttrs;
  const [batch, dim, N] = inputs[0].shape;
  let next = 6;
  const take = (present: boolean) => (present ? inputs[next++] : null);
  const D = take(attrs.hasD);
  const z = take(attrs.hasZ);
  const dtBias = take(attrs.hasDtBias);
  const out = output(be, [batch, dim]);
  // Decoding runs this once per layer and token: bind the small inputs directly where the device allows
  // (parameters, state, x, dt, A, B, C, out and the optional D, z, dtBias; Chromium's SwiftShader gives 10).
  const direct = tiling.stepDirect && fitsStorageBuffers(be, 8 + Number(attrs.hasD) + Number(attrs.hasZ) + Number(attrs.hasDtBias));
  const variant = { N, hasD: attrs.hasD, hasZ: attrs.hasZ, hasDtBias: attrs.hasDtBias, dtSoftplus: attrs.dtSoftplus, direct };
  const program_ = program(`step:${variantKey(variant)}`, () => stateUpdateSource(variant));
  const workgroups = flatGrid(batch * dim, STEP_WORKGROUP);
  // The state's own buffer is bound read_write: the new state overwrites it.
  const head = [bufferOf(inputs[0]), bufferOf(inputs[1]), bufferOf(inputs[2])];
  if (direct) {
    const small = (t: TensorInfo | null) => (t ? [bufferOf(t)] : []);
    be.dispatch({
      program: program_,
      params: [batch, dim],
      buffers: [...head, bufferOf(inputs[3]), bufferOf(inputs[4]), bufferOf(inputs[5]), ...small(D), ...small(z), ...small(dtBias), bufferOf(out)],
      workgroups,
    });
    return out;
  }
  const temporary: GPUBuffer[] = [];
  const side = new Packed(be, [inputs[3], inputs[4], inputs[5], D, dtBias], temporary);
  be.dispatch({
    program: program_,
    params: [batch, dim, ...side.at],
    buffers: [...head, side.buffer, ...(z ? [bufferOf(z)] : []), bufferOf(out)],
    workgroups,
  });
  releaseAll(be, temporary);
  return out;
};

export function registerWebGpuKernels(): void {
  registerKernel(SCAN_KERNEL, 'webgpu', scanForward as KernelFn);
  registerKernel(SCAN_BACKWARD_KERNEL, 'webgpu', scanBackward as KernelFn);
  registerKernel(STATE_UPDATE_KERNEL, 'webgpu', stateUpdate as KernelFn);
}
