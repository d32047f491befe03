import type { Backend, DataId, KernelFn, TensorInfo } from '../../backend';
import type { DType, TypedArray } from '../../dtype';
import { engine } from '../../engine';
import { BackendError } from '../../errors';
import { sizeOf } from '../../shape';
import { CpuBackend, CpuData } from '../cpu/backend';
import { WasmAllocator } from './allocator';
import { hasDataSegments, importNode, isNode, loadCoreWasm, readBytes, withSharedFlag, type WasmLocation } from './loader';
import { DEFAULT_JOB_TIMEOUT_MS, inBrowserWorker, WorkerPool } from './threads';

const PAGE = 65536;
/** wasm32 addresses 4 GiB at most. */
const MAX_PAGES = 65536;

export interface WasmBackendOptions {
  /** Threads for big kernels, the calling thread included (1 = no workers). Default: up to 4 where threads work, else 1. */
  threads?: number;
  /** Where the .wasm files are (a folder URL or path, or a function of the file name); default: next to this module. */
  wasmPaths?: WasmLocation;
  /** Use the relaxed-SIMD (FMA) build where the engine validates it (default true). */
  relaxedSimd?: boolean;
  /** Upper bound of the memory (default 4 GiB in Node, 1 GiB in browsers); a shared memory reserves it. */
  maximumMemoryBytes?: number;
  /**
   * How long the calling thread waits for a worker's part of a kernel before giving up with a
   * BackendError that names the kernel (default 60 s); the backend then runs single-threaded.
   */
  jobTimeoutMs?: number;
}

/** Data of the wasm backend: a byte range of the backend's memory. */
export class WasmData {
  constructor(
    readonly ptr: number,
    readonly bytes: number,
  ) {}
}

/** What a kernel module instantiated against the backend's memory offers. */
export interface WasmKernelModule {
  /** The exports of the main thread's instance. */
  readonly exports: WebAssembly.Exports;
  /**
   * Runs export `name` on `parts` threads at once (the main thread takes part 0) and returns when
   * all are done. `argsFor(part, parts)` gives each part's arguments, or null to skip that part.
   */
  parallel(name: string, parts: number, argsFor: (part: number, parts: number) => readonly number[] | null): void;
}

/** The core kernel module's exports (assembly/index.ts). */
export interface CoreKernels {
  matmul(a: number, b: number, c: number, M: number, N: number, K: number, rsA: number, csA: number, rsB: number, csB: number, scratch: number): void;
  matmulScratchBytes(): number;
  unary(op: number, x: number, out: number, n: number): void;
  binary(op: number, a: number, b: number, out: number, rank: number, shape: number, sa: number, sb: number, idx: number): void;
  castF32ToI32(x: number, out: number, n: number): void;
  castI32ToF32(x: number, out: number, n: number): void;
  reduce(op: number, x: number, out: number, outer: number, red: number, inner: number): void;
  softmax(x: number, out: number, rows: number, n: number): void;
  logSoftmax(x: number, out: number, rows: number, n: number): void;
  crossEntropy(logits: number, targets: number, out: number, rows: number, classes: number, ignoreIndex: number): number;
  rmsNorm(x: number, weight: number, out: number, rows: number, n: number, eps: number): void;
  conv1d(x: number, w: number, bias: number, out: number, B: number, C: number, L: number, K: number, c0: number, c1: number): void;
  copyStrided(src: number, dst: number, rank: number, shape: number, srcStrides: number, dstStrides: number, idx: number): void;
  fill32(dst: number, bits: number, n: number): void;
  gather(x: number, indices: number, out: number, outer: number, axisLen: number, inner: number, count: number): number;
  scatterAdd(updates: number, indices: number, out: number, outer: number, axisLen: number, inner: number, count: number): number;
}

/** Bytes of per-thread metadata (shapes and strides handed to kernels) after each thread's scratch. */
const META_BYTES = 1024;

/**
 * Tensors live in one WebAssembly.Memory (shared where SharedArrayBuffer exists); a JS allocator
 * hands out 16-byte-aligned offsets, and kernels are SIMD wasm functions on those offsets. Other
 * packages bring their own kernel modules with `loadKernelModule`.
 */
export class WasmBackend implements Backend {
  readonly name = 'wasm';
  /** The one memory every tensor and every kernel module lives in (`memory()` is the Backend's byte count). */
  readonly wasmMemory: WebAssembly.Memory;
  readonly shared: boolean;
  /** Which build runs: 'relaxed' (relaxed-SIMD FMA) or 'simd'. */
  readonly variant: 'relaxed' | 'simd';
  core!: CoreKernels;
  private coreModule!: WasmKernelModule;
  private readonly allocator: WasmAllocator;
  private pool: WorkerPool | null = null;
  private tensorBytes = 0;
  private tensorBuffers = 0;
  /** Per-thread scratch: packed matmul panels, then META_BYTES of shapes/strides. */
  private scratch: number[] = [];
  private scratchBytes = 0;
  private readonly fallbacks = new Map<string, KernelFn>();
  private readonly cpuForFallbacks = new CpuBackend();
  /** Every kernel module loaded, in order: a module's index here is its index in the worker pool. */
  private readonly kernelModules: { module: WebAssembly.Module; names: string[] }[] = [];
  private jobTimeoutMs = DEFAULT_JOB_TIMEOUT_MS;

  private constructor(memory: WebAssembly.Memory, shared: boolean, variant: 'relaxed' | 'simd', maximumBytes: number) {
    this.wasmMemory = memory;
    this.shared = shared;
    this.variant = variant;
    this.allocator = new WasmAllocator(memory, maximumBytes);
  }

  /** Makes a backend: a memory, the core kernels (relaxed build if validated), and worker threads. */
  static async create(options: WasmBackendOptions = {}): Promise<WasmBackend> {
    if (typeof WebAssembly === 'undefined') throw new BackendError('wasm: WebAssembly is not available here');
    const shared = sharedMemoryWorks();
    const maximumBytes = Math.min(options.maximumMemoryBytes ?? (isNode ? 4 * 2 ** 30 : 2 ** 30), MAX_PAGES * PAGE);
    const { memory, maximumPages } = makeMemory(Math.floor(maximumBytes / PAGE), shared, options.maximumMemoryBytes === undefined);
    let bytes: Uint8Array<ArrayBuffer> | null = null;
    let variant: 'relaxed' | 'simd' = 'simd';
    if (options.relaxedSimd !== false) {
      const relaxed = withSharedFlag(await loadCoreWasm('core-relaxed.wasm', options.wasmPaths), shared);
      if (WebAssembly.validate(relaxed)) {
        bytes = relaxed;
        variant = 'relaxed';
      }
    }
    if (!bytes) {
      bytes = withSharedFlag(await loadCoreWasm('core-simd.wasm', options.wasmPaths), shared);
      if (!WebAssembly.validate(bytes)) throw new BackendError('wasm: this engine does not support WebAssembly SIMD (128-bit); use the cpu backend');
    }
    const backend = new WasmBackend(memory, shared, variant, maximumPages * PAGE);
    backend.jobTimeoutMs = options.jobTimeoutMs ?? DEFAULT_JOB_TIMEOUT_MS;
    backend.coreModule = await backend.loadKernelModule(bytes);
    backend.core = backend.coreModule.exports as unknown as CoreKernels;
    backend.scratchBytes = backend.core.matmulScratchBytes() + META_BYTES;
    await backend.setThreads(options.threads ?? (await defaultThreads(shared)));
    return backend;
  }

  // ---------------------------------------------------------------- Backend

  allocate(dtype: DType, size: number): DataId {
    const data = this.alloc(size * 4);
    new Uint8Array(this.wasmMemory.buffer, data.ptr, data.bytes).fill(0);
    return data;
  }

  write(dataId: DataId, values: TypedArray): void {
    const d = dataId as WasmData;
    new Uint8Array(this.wasmMemory.buffer, d.ptr, values.byteLength).set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  }

  read(dataId: DataId, dtype: DType, size: number): Promise<TypedArray> {
    return Promise.resolve(this.readSync(dataId, dtype, size));
  }

  readSync(dataId: DataId, dtype: DType, size: number): TypedArray {
    const ptr = (dataId as WasmData).ptr;
    return dtype === 'int32' ? new Int32Array(this.wasmMemory.buffer, ptr, size).slice() : new Float32Array(this.wasmMemory.buffer, ptr, size).slice();
  }

  free(dataId: DataId): void {
    const d = dataId as WasmData;
    this.allocator.release(d.ptr, d.bytes);
    this.tensorBytes -= d.bytes;
    this.tensorBuffers--;
  }

  /** Bytes and buffers held for live tensors (scratch space excluded). */
  memory(): { bytes: number; buffers: number } {
    return { bytes: this.tensorBytes, buffers: this.tensorBuffers };
  }

  // ---------------------------------------------------------------- kernel helpers

  /** Byte offset of a tensor's data in `memory`. */
  ptr(info: TensorInfo): number {
    return (info.dataId as WasmData).ptr;
  }

  /** A new, uninitialized output tensor (kernels write every element). */
  output(shape: readonly number[], dtype: DType = 'float32'): TensorInfo {
    return { dataId: this.alloc(sizeOf(shape) * 4), shape, dtype };
  }

  /** A typed-array view of a tensor's data (valid until the memory grows). */
  view(info: TensorInfo): TypedArray {
    const n = sizeOf(info.shape);
    return info.dtype === 'int32' ? new Int32Array(this.wasmMemory.buffer, this.ptr(info), n) : new Float32Array(this.wasmMemory.buffer, this.ptr(info), n);
  }

  /** Threads big kernels use, the main thread included. */
  get threads(): number {
    return (this.pool?.size ?? 0) + 1;
  }

  /** Sets the thread count (1 = calling thread only); more than 1 needs shared memory, and Node or a browser Worker. */
  async setThreads(count: number): Promise<void> {
    const wanted = Math.max(1, Math.floor(count));
    if (wanted > 1 && !(this.shared && (isNode || inBrowserWorker()))) {
      throw new BackendError(
        `wasm: ${wanted} threads need a shared memory and Node or a browser Worker (a page's main thread cannot block on ` +
          `Atomics.wait); shared memory here: ${this.shared}`,
      );
    }
    if (wanted > 1 && !this.pool) {
      this.pool = await WorkerPool.create(this.wasmMemory, this.jobTimeoutMs);
      for (const m of this.kernelModules) this.pool.addModule(m.module, m.names);
    }
    await this.pool?.resize(wanted - 1);
    while (this.scratch.length < wanted) this.scratch.push(this.allocator.alloc(this.scratchBytes));
  }

  /** Scratch of thread `t` (matmul panels). */
  scratchOf(t: number): number {
    return this.scratch[t];
  }

  /** Per-thread room for up to 256 int32 values (shapes, strides) handed to a kernel; returns its offset. */
  meta(t: number, values: readonly number[]): number {
    const at = this.scratch[t] + this.scratchBytes - META_BYTES;
    new Int32Array(this.wasmMemory.buffer, at, values.length).set(values);
    return at;
  }

  /** Runs a core export across threads (see WasmKernelModule.parallel). */
  parallel(name: keyof CoreKernels, parts: number, argsFor: (part: number, parts: number) => readonly number[] | null): void {
    this.coreModule.parallel(name, parts, argsFor);
  }

  // ---------------------------------------------------------------- kernel modules

  /**
   * Instantiates a kernel module against this backend's memory, on the main thread and in every
   * worker. The module must import its memory as `env.memory` with a maximum (asc --importMemory
   * --maximumMemory 65536, plus --sharedMemory or not: the shared flag is set to match) and must
   * have no data segments; kernels work on byte offsets from `ptr()` and `output()`.
   */
  async loadKernelModule(source: Uint8Array | ArrayBuffer | string | URL): Promise<WasmKernelModule> {
    const raw = source instanceof Uint8Array ? new Uint8Array(source) : source instanceof ArrayBuffer ? new Uint8Array(source) : await readBytes(source);
    if (hasDataSegments(raw)) throw new BackendError('wasm: kernel modules must have no data segments (static data would overwrite tensors)');
    const bytes = withSharedFlag(raw, this.shared);
    const module = await WebAssembly.compile(bytes);
    const env = { memory: this.wasmMemory, abort: () => { throw new BackendError('wasm kernel aborted'); } };
    const instance = await WebAssembly.instantiate(module, { env });
    const names = WebAssembly.Module.exports(module).filter((e) => e.kind === 'function').map((e) => e.name);
    this.kernelModules.push({ module, names });
    const entry = { index: this.kernelModules.length - 1, names };
    this.pool?.addModule(module, names);
    return {
      exports: instance.exports,
      parallel: (name, parts, argsFor) => this.runParallel(instance.exports, entry, name, parts, argsFor),
    };
  }

  private runParallel(
    exports: WebAssembly.Exports,
    entry: { index: number; names: string[] },
    name: string,
    parts: number,
    argsFor: (part: number, parts: number) => readonly number[] | null,
  ): void {
    const fn = exports[name] as ((...args: number[]) => unknown) | undefined;
    if (typeof fn !== 'function') throw new BackendError(`wasm: the kernel module has no export '${name}'`);
    const pool = this.pool;
    const n = Math.max(1, Math.min(parts, pool ? pool.size + 1 : 1));
    if (n === 1 || !pool) {
      const args = argsFor(0, 1);
      if (args) fn(...args);
      return;
    }
    const exportIndex = entry.names.indexOf(name);
    const started: number[] = [];
    let failure: unknown = null;
    try {
      for (let p = 1; p < n; p++) {
        const args = argsFor(p, n);
        if (!args) continue;
        pool.start(p - 1, entry.index, exportIndex, args);
        started.push(p - 1);
      }
      const args = argsFor(0, n);
      if (args) fn(...args);
    } catch (e) {
      failure = e;
    }
    // Every started worker is waited for, even after a failure, so the next job finds it idle.
    for (const w of started) {
      try {
        pool.finish(w);
      } catch (e) {
        failure ??= e;
      }
    }
    if (failure) {
      // A worker that missed the watchdog's deadline may still be running: stop them all, and let later
      // calls run on the calling thread alone rather than wait on a pool that cannot answer.
      if (pool.stalled) {
        this.pool = null;
        void pool.terminate();
      }
      throw failure;
    }
  }

  // ---------------------------------------------------------------- fallbacks

  /** The cpu kernel of an op, run on views of this memory; its outputs are copied in. */
  fallbackKernel(name: string): KernelFn | undefined {
    let fn = this.fallbacks.get(name);
    if (fn) return fn;
    const cpuKernel = engine.getKernel(name, 'cpu');
    if (!cpuKernel) return undefined;
    fn = (inputs, attrs) => {
      const views = inputs.map((info) => ({ dataId: new CpuData(this.view(info)), shape: info.shape, dtype: info.dtype }));
      const result = cpuKernel(views, attrs, this.cpuForFallbacks);
      const outs = (Array.isArray(result) ? result : [result]).map((o) => {
        // A kernel that hands an input back (no copy) keeps sharing that input's wasm data.
        const same = views.findIndex((v) => v.dataId === o.dataId);
        if (same >= 0) return { dataId: inputs[same].dataId, shape: o.shape, dtype: o.dtype };
        const out = this.output(o.shape, o.dtype);
        this.view(out).set((o.dataId as CpuData).values);
        this.cpuForFallbacks.free(o.dataId);
        return out;
      });
      return Array.isArray(result) ? outs : outs[0];
    };
    this.fallbacks.set(name, fn);
    return fn;
  }

  // ---------------------------------------------------------------- internals

  private alloc(bytes: number): WasmData {
    const ptr = this.allocator.alloc(bytes);
    this.tensorBytes += bytes;
    this.tensorBuffers++;
    return new WasmData(ptr, bytes);
  }

  /** Allocator statistics (free-list length, top, capacity) for tests and diagnostics. */
  allocatorStats(): { freeBlocks: number; top: number; capacity: number } {
    return this.allocator.stats();
  }

  async dispose(): Promise<void> {
    await this.pool?.terminate();
    this.pool = null;
  }
}

/**
 * A memory of `maximumPages` at most. A shared memory reserves its maximum up front, which a
 * process with little address space may refuse: then, unless the caller asked for that size,
 * smaller maxima are tried.
 */
function makeMemory(maximumPages: number, shared: boolean, mayShrink: boolean): { memory: WebAssembly.Memory; maximumPages: number } {
  for (let pages = maximumPages; ; pages = Math.floor(pages / 4)) {
    try {
      const memory = new WebAssembly.Memory(shared ? { initial: 16, maximum: pages, shared: true } : { initial: 16, maximum: pages });
      return { memory, maximumPages: pages };
    } catch (e) {
      if (!mayShrink || pages / 4 < 4096) throw new BackendError(`wasm: cannot make a memory of up to ${pages * PAGE} bytes: ${(e as Error).message}`);
    }
  }
}

/** Shared memory exists and may be used: Node, or a cross-origin-isolated page or worker. */
function sharedMemoryWorks(): boolean {
  if (typeof SharedArrayBuffer === 'undefined') return false;
  if (!isNode && (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated !== true) return false;
  try {
    new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    return true;
  } catch {
    return false;
  }
}

async function defaultThreads(shared: boolean): Promise<number> {
  if (!shared) return 1;
  if (isNode) {
    const os = await importNode<typeof import('node:os')>('node:os');
    return Math.max(1, Math.min(4, os.availableParallelism?.() ?? os.cpus().length));
  }
  if (!inBrowserWorker()) return 1;
  return Math.max(1, Math.min(4, (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1));
}
