/**
 * The wasm kernels: assembly/scan.ts (128-bit SIMD over the states, fast 2^x, two channels per step,
 * relaxed-SIMD FMA where the engine has it), instantiated into core's wasm backend so they work on its
 * tensors in place and run on its worker threads, split over channels.
 *
 * Loading is asynchronous (`loadWasmKernels`); until it has run, the wasm backend runs the cpu kernels
 * on views of its memory (core's fallback), which gives the same results, ~15× slower. The first such call
 * starts the loading in the background, so code that never awaits `loadWasmKernels` (a model made with
 * `setBackend('wasm')` alone) gets the SIMD kernels once the event loop has turned (compiling is
 * asynchronous: ~1 s later on a busy machine). A loop that only awaits resolved promises never lets it
 * finish: await `loadWasmKernels()` after `setBackend('wasm')` to be sure.
 */
import { registerKernel, scalar, toBackend, type KernelFn, type TensorInfo, type WasmBackend, type WasmKernelModule } from '@ssmjs/core';
import { SCAN_BACKWARD_KERNEL, SCAN_KERNEL, STATE_UPDATE_KERNEL, optionalSlots, scanDims, type ScanAttrs, type StateUpdateAttrs } from './contract';
import { SCAN_RELAXED_WASM, SCAN_SIMD_WASM } from './wasm-binary';

type WasmKernel = KernelFn<WasmBackend>;

/** Flag bits of assembly/scan.ts. */
const FLAG = { D: 1, z: 2, bias: 4, initialState: 8, softplus: 16 } as const;

/** Below this many state updates a call stays on one thread: waking workers costs more than it saves. */
const PARALLEL_WORK = 1 << 16;

interface ScanExports {
  prepare(A: number, B: number, C: number, A2: number, Bt: number, Ct: number, batch: number, dim: number, N: number, Np: number, L: number): void;
  finishBC(partialB: number, partialC: number, parts: number, partStride: number, dB: number, dC: number, batch: number, N: number, Np: number, L: number): void;
}

/** Slots of scanBackward's descriptor (assembly/scan.ts, BW_*), in order. */
const BACKWARD_SLOTS = [
  'u', 'delta', 'A2', 'Bt', 'Ct', 'D', 'z', 'deltaBias', 'checkpoints', 'dy', 'dLastState',
  'du', 'ddelta', 'dA', 'dD', 'dz', 'dDeltaBias', 'dInitialState', 'dBt', 'dCt', 'partialStride',
  'batch', 'dim', 'N', 'Np', 'L', 'chunk', 'flags',
] as const;

const modules = new WeakMap<WasmBackend, Promise<WasmKernelModule>>();
const ready = new WeakMap<WasmBackend, WasmKernelModule>();

function decode(base64: string): Uint8Array<ArrayBuffer> {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/**
 * Compiles the SIMD scan kernels into the wasm backend (once per backend; starts the backend if needed).
 * Picks the relaxed-SIMD (FMA) build when the backend runs its own relaxed build and the engine accepts ours.
 */
export async function loadWasmKernels(backend?: WasmBackend): Promise<void> {
  const target = backend ?? (await findWasmBackend());
  let loading = modules.get(target);
  if (!loading) {
    const relaxed = decode(SCAN_RELAXED_WASM);
    const bytes = target.variant === 'relaxed' && WebAssembly.validate(relaxed) ? relaxed : decode(SCAN_SIMD_WASM);
    loading = target.loadKernelModule(bytes);
    modules.set(target, loading);
  }
  ready.set(target, await loading);
}

/** The loaded module, or undefined after starting to load it in the background (callers fall back meanwhile). */
function moduleOrStartLoading(be: WasmBackend): WasmKernelModule | undefined {
  const module = ready.get(be);
  if (!module && !modules.has(be)) {
    // A failed load leaves the fallback in place; `loadWasmKernels` reports the error to whoever awaits it.
    loadWasmKernels(be).catch(() => {});
  }
  return module;
}

/** The wasm backend instance, through the public API: a probe tensor moved there. */
async function findWasmBackend(): Promise<WasmBackend> {
  const probe = scalar(0);
  const moved = await toBackend(probe, 'wasm');
  const backend = moved.backend as WasmBackend;
  probe.dispose();
  moved.dispose();
  return backend;
}

/** Even split points of [0, count) into `parts`, on multiples of two so channel pairs stay together. */
function channelRange(part: number, parts: number, count: number): [number, number] {
  const at = (p: number) => (p >= parts ? count : Math.min(count, 2 * Math.round((p * count) / parts / 2)));
  return [at(part), at(part + 1)];
}

/** Temporary wasm buffers for one call, freed together. */
function scratchArena(be: WasmBackend) {
  const held: TensorInfo[] = [];
  return {
    alloc(floats: number): number {
      const info = be.output([Math.max(4, Math.ceil(floats / 4) * 4)]);
      held.push(info);
      return be.ptr(info);
    },
    /** Zeroed floats. */
    zeros(floats: number): number {
      const ptr = this.alloc(floats);
      const info = held[held.length - 1];
      be.view(info).fill(0);
      return ptr;
    },
    release(): void {
      for (const info of held) be.free(info.dataId);
    },
  };
}

const scanForward: WasmKernel = (inputs, rawAttrs, be) => {
  const module = moduleOrStartLoading(be);
  if (!module) return be.fallbackKernel(SCAN_KERNEL)!(inputs, rawAttrs, be);
  const attrs = rawAttrs as ScanAttrs;
  const slots = optionalSlots(attrs);
  const { batch, dim, dstate: N, length: L, chunks } = scanDims(inputs[0].shape, inputs[2].shape, attrs.chunkSize);
  const Np = Math.ceil(N / 4) * 4;
  const Lp = Math.ceil(L / 4) * 4;
  const ptr = (slot: number) => (slot >= 0 ? be.ptr(inputs[slot]) : 0);
  const [u, delta, A, B, C] = [0, 1, 2, 3, 4].map(ptr);
  const y = be.output([batch, dim, L]);
  const lastState = be.output([batch, dim, N]);
  const checkpoints = be.output([batch, dim, chunks, N]);

  const threads = batch * dim * L * N >= PARALLEL_WORK ? be.threads : 1;
  const arena = scratchArena(be);
  try {
    const A2 = arena.alloc(dim * Np);
    const Bt = arena.alloc(batch * L * Np);
    const Ct = arena.alloc(batch * L * Np);
    const scratch = Array.from({ length: threads }, () => arena.alloc(4 * Lp + Np));
    (module.exports as unknown as ScanExports).prepare(A, B, C, A2, Bt, Ct, batch, dim, N, Np, L);
    const flags = scanFlags(attrs);
    const fixed = [ptr(slots.D), ptr(slots.z), ptr(slots.deltaBias), ptr(slots.initialState), be.ptr(y), be.ptr(lastState), be.ptr(checkpoints)];
    module.parallel('scanForward', threads, (part, parts) => {
      const [dStart, dEnd] = channelRange(part, parts, dim);
      if (dStart === dEnd) return null;
      return [u, delta, A2, Bt, Ct, ...fixed, scratch[part], batch, dim, N, Np, L, attrs.chunkSize, flags, dStart, dEnd];
    });
  } finally {
    arena.release();
  }
  return [y, lastState, checkpoints];
};

function scanFlags(attrs: ScanAttrs): number {
  let flags = attrs.deltaSoftplus ? FLAG.softplus : 0;
  if (attrs.hasD) flags |= FLAG.D;
  if (attrs.hasZ) flags |= FLAG.z;
  if (attrs.hasDeltaBias) flags |= FLAG.bias;
  if (attrs.hasInitialState) flags |= FLAG.initialState;
  return flags;
}

/**
 * Backward (inputs and outputs as the cpu kernel's). Threads split the channels; each accumulates dB
 * and dC (sums over channels) into its own partial buffers, added up at the end by `finishBC`.
 */
const scanBackward: WasmKernel = (inputs, rawAttrs, be) => {
  const module = moduleOrStartLoading(be);
  if (!module) return be.fallbackKernel(SCAN_BACKWARD_KERNEL)!(inputs, rawAttrs, be);
  const exports = module.exports as unknown as ScanExports;
  const attrs = rawAttrs as ScanAttrs;
  const slots = optionalSlots(attrs);
  const { batch, dim, dstate: N, length: L } = scanDims(inputs[0].shape, inputs[2].shape, attrs.chunkSize);
  const Np = Math.ceil(N / 4) * 4;
  const Lp = Math.ceil(L / 4) * 4;
  const ptr = (slot: number) => (slot >= 0 ? be.ptr(inputs[slot]) : 0);
  const zeroed = (shape: number[]) => {
    const info = be.output(shape);
    be.view(info).fill(0);
    return info;
  };
  const du = be.output([batch, dim, L]);
  const ddelta = be.output([batch, dim, L]);
  const dA = zeroed([dim, N]);
  const dB = be.output([batch, N, L]);
  const dC = be.output([batch, N, L]);
  const dD = attrs.hasD ? zeroed([dim]) : null;
  const dz = attrs.hasZ ? be.output([batch, dim, L]) : null;
  const dDeltaBias = attrs.hasDeltaBias ? zeroed([dim]) : null;
  const dInitialState = be.output([batch, dim, N]);

  const threads = batch * dim * L * N >= PARALLEL_WORK ? be.threads : 1;
  const arena = scratchArena(be);
  try {
    const A2 = arena.alloc(dim * Np);
    const Bt = arena.alloc(batch * L * Np);
    const Ct = arena.alloc(batch * L * Np);
    exports.prepare(ptr(2), ptr(3), ptr(4), A2, Bt, Ct, batch, dim, N, Np, L);
    const partialFloats = Math.ceil((batch * L * Np) / 4) * 4;
    const dBt = arena.zeros(partialFloats * threads);
    const dCt = arena.zeros(partialFloats * threads);
    const scratch = Array.from({ length: threads }, () => arena.alloc(5 * Lp + (2 * attrs.chunkSize + 3) * Np));
    const values: Record<(typeof BACKWARD_SLOTS)[number], number> = {
      u: ptr(0), delta: ptr(1), A2, Bt, Ct, D: ptr(slots.D), z: ptr(slots.z), deltaBias: ptr(slots.deltaBias),
      checkpoints: be.ptr(inputs[slots.next]), dy: be.ptr(inputs[slots.next + 1]), dLastState: be.ptr(inputs[slots.next + 2]),
      du: be.ptr(du), ddelta: be.ptr(ddelta), dA: be.ptr(dA), dD: dD ? be.ptr(dD) : 0, dz: dz ? be.ptr(dz) : 0,
      dDeltaBias: dDeltaBias ? be.ptr(dDeltaBias) : 0, dInitialState: be.ptr(dInitialState), dBt, dCt,
      partialStride: partialFloats * 4, batch, dim, N, Np, L, chunk: attrs.chunkSize, flags: scanFlags(attrs),
    };
    const desc = arena.alloc(BACKWARD_SLOTS.length);
    new Int32Array(be.wasmMemory.buffer, desc, BACKWARD_SLOTS.length).set(BACKWARD_SLOTS.map((k) => values[k]));
    module.parallel('scanBackward', threads, (part, parts) => {
      const [dStart, dEnd] = channelRange(part, parts, dim);
      if (dStart === dEnd) return null;
      return [desc, scratch[part], part, dStart, dEnd];
    });
    exports.finishBC(dBt, dCt, threads, partialFloats * 4, be.ptr(dB), be.ptr(dC), batch, N, Np, L);
  } finally {
    arena.release();
  }
  const outputs = [du, ddelta, dA, dB, dC];
  for (const optional of [dD, dz, dDeltaBias]) if (optional) outputs.push(optional);
  if (attrs.hasInitialState) outputs.push(dInitialState);
  else be.free(dInitialState.dataId);
  return outputs;
};

const stateUpdate: WasmKernel = (inputs, rawAttrs, be) => {
  const module = moduleOrStartLoading(be);
  if (!module) return be.fallbackKernel(STATE_UPDATE_KERNEL)!(inputs, rawAttrs, be);
  const attrs = rawAttrs as StateUpdateAttrs;
  const [batch, dim, N] = inputs[0].shape;
  const ptrs = inputs.slice(0, 6).map((t) => be.ptr(t));
  let next = 6;
  const optional = (present: boolean) => (present ? be.ptr(inputs[next++]) : 0);
  const D = optional(attrs.hasD);
  const z = optional(attrs.hasZ);
  const dtBias = optional(attrs.hasDtBias);
  let flags = attrs.dtSoftplus ? FLAG.softplus : 0;
  if (attrs.hasD) flags |= FLAG.D;
  if (attrs.hasZ) flags |= FLAG.z;
  if (attrs.hasDtBias) flags |= FLAG.bias;
  const out = be.output([batch, dim]);
  const threads = batch * dim * N >= PARALLEL_WORK ? be.threads : 1;
  // The state is updated where it lies: the kernel writes over the input's memory.
  module.parallel('stateUpdate', threads, (part, parts) => {
    const [dStart, dEnd] = channelRange(part, parts, dim);
    if (dStart === dEnd) return null;
    return [...ptrs, D, z, dtBias, be.ptr(out), batch, dim, N, flags, dStart, dEnd];
  });
  return out;
};

export function registerWasmKernels(): void {
  registerKernel(SCAN_KERNEL, 'wasm', scanForward as KernelFn);
  registerKernel(SCAN_BACKWARD_KERNEL, 'wasm', scanBackward as KernelFn);
  registerKernel(STATE_UPDATE_KERNEL, 'wasm', stateUpdate as KernelFn);
}
