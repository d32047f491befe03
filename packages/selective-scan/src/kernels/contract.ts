/**
 * The contract every backend's scan kernels follow (cpu.ts, wasm.ts, and later webgpu.ts): kernel names,
 * the order of inputs and outputs, and the attributes. The op layer (../scan.ts) builds these; kernels
 * only read them.
 *
 * Optional inputs are passed only when present, in the fixed order D, z, deltaBias, initialState, and
 * `ScanAttrs` says which are there.
 */

export const SCAN_KERNEL = 'selectiveScan';
export const SCAN_BACKWARD_KERNEL = 'selectiveScanBackward';
export const STATE_UPDATE_KERNEL = 'selectiveStateUpdate';

/** Default number of time steps between the states the forward saves for the backward. */
export const DEFAULT_CHUNK_SIZE = 64;

/**
 * The checkpoint spacing of a forward whose gradient is not recorded: nothing reads its checkpoints, so
 * it keeps only the first (the whole length, rounded up to a multiple of the kernels' largest tile).
 */
export const inferenceChunkSize = (L: number): number => Math.ceil(L / 64) * 64;

export interface ScanAttrs {
  hasD: boolean;
  hasZ: boolean;
  hasDeltaBias: boolean;
  hasInitialState: boolean;
  deltaSoftplus: boolean;
  /** Time steps per chunk: the forward saves the state at the start of every chunk. */
  chunkSize: number;
  [key: string]: unknown;
}

export interface StateUpdateAttrs {
  hasD: boolean;
  hasZ: boolean;
  hasDtBias: boolean;
  dtSoftplus: boolean;
  [key: string]: unknown;
}

export interface ScanDims {
  batch: number;
  dim: number;
  dstate: number;
  length: number;
  chunks: number;
}

export function scanDims(uShape: readonly number[], aShape: readonly number[], chunkSize: number): ScanDims {
  const [batch, dim, length] = uShape;
  return { batch, dim, dstate: aShape[1], length, chunks: Math.ceil(length / chunkSize) };
}

/**
 * Positions of the optional inputs in a kernel's input list (-1 when absent). The scan and its backward
 * start with u, delta, A, B, C; the backward appends checkpoints, dy and dLastState after the optional ones.
 */
export function optionalSlots(attrs: ScanAttrs): { D: number; z: number; deltaBias: number; initialState: number; next: number } {
  let next = 5;
  const slot = (present: boolean) => (present ? next++ : -1);
  const D = slot(attrs.hasD);
  const z = slot(attrs.hasZ);
  const deltaBias = slot(attrs.hasDeltaBias);
  const initialState = slot(attrs.hasInitialState);
  return { D, z, deltaBias, initialState, next };
}

/** PyTorch's softplus (threshold 20: the identity above it). */
export function softplus(x: number): number {
  return x > 20 ? x : Math.log1p(Math.exp(x));
}

/** d softplus / dx = sigmoid(x), 1 above the threshold. */
export function softplusGrad(x: number): number {
  return x > 20 ? 1 : 1 / (1 + Math.exp(-x));
}
