/// <reference types="@webgpu/types" />
import type { Backend, DataId } from '../../backend';
import { allocArray, type DType, type TypedArray } from '../../dtype';
import { BackendError } from '../../errors';
import type { MatmulTiling } from './kernels/matmul.wgsl';

// GPUBufferUsage / GPUMapMode values are fixed by the spec; spelled out so Node needs no globals.
const USAGE_MAP_READ = 0x1;
const USAGE_COPY_SRC = 0x4;
const USAGE_COPY_DST = 0x8;
const USAGE_STORAGE = 0x80;
const MAP_MODE_READ = 0x1;

/** Data of the webgpu backend: a storage buffer (maybe larger than needed: pool size classes). */
export class WebGpuData {
  constructor(
    readonly buffer: GPUBuffer,
    /** Elements the tensor holds. */
    readonly size: number,
  ) {}
}

export interface WebGpuBackendOptions {
  /** A device to use as is (its limits and features decide what the kernels may do). */
  device?: GPUDevice;
  /** Where adapters come from: `navigator.gpu` in browsers, `create([])` of the `webgpu` package in Node. */
  gpu?: GPU;
  powerPreference?: GPUPowerPreference;
  /** Use subgroup operations when the adapter has them (default true); false forces the fallbacks. */
  subgroups?: boolean;
  /** Dispatches recorded before a batch is submitted without a read (default 256). */
  batchSize?: number;
  /** Bytes of freed buffers kept for reuse; beyond it freed buffers are destroyed (default 512 MiB). */
  poolLimitBytes?: number;
  /** One matmul tiling for every size (benchmarks); by default it is chosen per shape. */
  matmulTiling?: MatmulTiling;
}

/** A compiled kernel variant; `source` is called once, on the first use of `key`. */
export interface Program {
  readonly key: string;
  readonly source: () => string;
}

/** Work for one dispatch: buffers in binding order after the params (binding 0), and the grid. */
export interface Dispatch {
  readonly program: Program;
  readonly params: ArrayLike<number>;
  readonly buffers: readonly GPUBuffer[];
  readonly workgroups: readonly [number, number, number];
}

const PARAM_ARENA_BYTES = 1 << 18;
/** Most bind groups kept for reuse (a 24-layer decoding step makes ~320). */
const BIND_GROUP_CACHE = 4096;
const MIN_BUFFER_BYTES = 256;

/**
 * Buffers come in size classes a quarter of a power of two apart (≤ 25% slack), so a freed buffer
 * serves the next tensor of a similar size.
 */
export function sizeClass(bytes: number): number {
  if (bytes <= MIN_BUFFER_BYTES) return MIN_BUFFER_BYTES;
  const step = 2 ** Math.max(8, Math.floor(Math.log2(bytes)) - 2);
  return Math.ceil(bytes / step) * step;
}

/** Workgroups for `count` items of `perGroup`, spread over x and y (each at most 65535). */
export function grid(count: number, perGroup: number): [number, number, number] {
  const groups = Math.ceil(count / perGroup);
  if (groups <= 65535) return [groups, 1, 1];
  const y = Math.ceil(groups / 65535);
  return [Math.ceil(groups / y), y, 1];
}

async function loadNodeGpu(): Promise<GPU | undefined> {
  // A variable specifier keeps bundlers from resolving the optional Node package for browsers.
  const specifier = 'webgpu';
  try {
    const mod = (await import(/* @vite-ignore */ specifier)) as { create: (flags: string[]) => GPU };
    return mod.create([]);
  } catch {
    return undefined;
  }
}

/**
 * WGSL compute kernels on a GPUDevice. Dispatches are recorded into one command encoder and
 * submitted when data is read or a batch fills; buffers are pooled by size class; pipelines are
 * cached by kernel variant; reads are asynchronous.
 */
export class WebGpuBackend implements Backend {
  readonly name = 'webgpu';
  readonly device: GPUDevice;
  /** Subgroup operations are available (and allowed) for kernels that have a subgroup variant. */
  readonly subgroups: boolean;
  readonly limits: GPUSupportedLimits;
  readonly matmulTiling: MatmulTiling | undefined;
  /** The largest subgroup the device may use (128 where the adapter does not say). */
  private readonly subgroupMaxSize: number;

  /** Compiled pipelines by program key, with their bind group layout (asked once: each ask makes a new object). */
  private readonly pipelines = new Map<string, { pipeline: GPUComputePipeline; layout: GPUBindGroupLayout }>();
  /**
   * Bind groups by program, parameter slot and buffers: a decoding loop records the same dispatches on the
   * same pooled buffers token after token, and making a bind group costs more than the rest of a dispatch.
   * An entry of a destroyed buffer is never asked for again (the key names buffers by identity); the map is
   * emptied when it reaches BIND_GROUP_CACHE entries and when the pool is trimmed.
   */
  private readonly bindGroups = new Map<string, GPUBindGroup>();
  private readonly bufferIds = new WeakMap<GPUBuffer, number>();
  private nextBufferId = 0;
  private readonly pool = new Map<number, GPUBuffer[]>();
  private poolBytes = 0;
  /** When each size class was last asked for (a counter): a full pool gives up the longest unused first. */
  private readonly sizeLastAsked = new Map<number, number>();
  private asks = 0;
  /** Freed while the current batch may still read them: they join the pool after it is submitted. */
  /**
   * Buffers freed while a batch is being recorded, by size. Kernels may take them for their outputs at once:
   * the GPU runs the batch's dispatches in order, so a later dispatch's writes come after earlier reads. An
   * upload (`queue.writeBuffer`) would not: it runs before the whole batch, so writing into such a buffer
   * submits the batch first (`reusedInBatch`).
   */
  private batchFreed = new Map<number, GPUBuffer[]>();
  private readonly reusedInBatch = new Set<GPUBuffer>();
  private readonly stagingPool = new Map<number, GPUBuffer[]>();
  private liveBytes = 0;
  private liveBuffers = 0;
  private readonly batchSize: number;
  private readonly poolLimitBytes: number;

  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private dispatches = 0;
  /** Kernel parameters of the batch, written to `paramBuffer` just before the batch is submitted. */
  private readonly paramArena = new Uint32Array(PARAM_ARENA_BYTES / 4);
  private paramBytes = 0;
  private readonly paramBuffer: GPUBuffer;
  private readonly paramAlign: number;

  private lost: GPUDeviceLostInfo | null = null;
  private uncaptured: string | null = null;
  private disposed = false;
  private keepAlive: unknown[] = [];

  /** Finds an adapter and device (see options) and starts the backend. */
  static async create(options: WebGpuBackendOptions = {}): Promise<WebGpuBackend> {
    if (options.device) return new WebGpuBackend(options.device, options);
    const gpu = options.gpu ?? (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu ?? (await loadNodeGpu());
    if (!gpu) {
      throw new BackendError(
        "webgpu: no WebGPU here (navigator.gpu is missing and the 'webgpu' package could not be loaded); use a browser with WebGPU, install 'webgpu' for Node, or pick the 'wasm' or 'cpu' backend",
      );
    }
    let adapter: GPUAdapter | null;
    let why = 'requestAdapter returned null';
    try {
      adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference ?? 'high-performance' });
    } catch (e) {
      adapter = null;
      why = `requestAdapter failed: ${(e as Error).message}`;
    }
    if (!adapter) {
      throw new BackendError(
        `webgpu: no GPU adapter available (${why}); in Node without a GPU set VK_ICD_FILENAMES to SwiftShader's ICD, or pick the 'wasm' or 'cpu' backend`,
      );
    }
    const wanted = ['maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup', 'maxStorageBuffersPerShaderStage'] as const;
    const requiredLimits: Record<string, number> = {};
    for (const name of wanted) requiredLimits[name] = adapter.limits[name];
    const useSubgroups = options.subgroups !== false && adapter.features.has('subgroups' as GPUFeatureName);
    const device = await adapter.requestDevice({
      requiredLimits,
      requiredFeatures: useSubgroups ? ['subgroups' as GPUFeatureName] : [],
    });
    const backend = new WebGpuBackend(device, options);
    // Dawn in Node tears the device down when its GPU object is garbage collected: hold on to both.
    backend.keepAlive = [gpu, adapter];
    return backend;
  }

  constructor(device: GPUDevice, options: WebGpuBackendOptions = {}) {
    this.device = device;
    this.limits = device.limits;
    this.subgroups = options.subgroups !== false && device.features.has('subgroups');
    const info = (device as { adapterInfo?: { subgroupMaxSize?: number } }).adapterInfo;
    this.subgroupMaxSize = info?.subgroupMaxSize || 128;
    this.matmulTiling = options.matmulTiling;
    this.batchSize = options.batchSize ?? 256;
    this.poolLimitBytes = options.poolLimitBytes ?? 512 * 2 ** 20;
    this.paramAlign = device.limits.minStorageBufferOffsetAlignment;
    this.paramBuffer = device.createBuffer({ size: PARAM_ARENA_BYTES, usage: USAGE_STORAGE | USAGE_COPY_DST });
    void device.lost.then((info) => {
      if (!this.disposed) this.lost = info;
    });
    device.addEventListener('uncapturederror', (event) => {
      this.uncaptured ??= (event as GPUUncapturedErrorEvent).error.message;
    });
  }

  private checkUsable(what: string): void {
    if (this.disposed) throw new BackendError(`webgpu: ${what} after the backend was disposed`);
    if (this.lost) {
      throw new BackendError(
        `webgpu: the GPU device was lost (${this.lost.reason}: ${this.lost.message}); its tensors are gone; start a new backend (or switch to 'wasm'/'cpu') and load the data again`,
      );
    }
  }

  /** Whether a workgroup of `size` invocations can use the subgroup reductions (whole subgroups fit). */
  subgroupsFor(size: number): boolean {
    return this.subgroups && size >= this.subgroupMaxSize;
  }

  // ---------------------------------------------------------------- memory

  /** A storage buffer of at least `bytes`, from the pool when one of its size class is free. */
  createBuffer(bytes: number): GPUBuffer {
    this.checkUsable('allocate');
    const size = sizeClass(bytes);
    if (size > this.limits.maxStorageBufferBindingSize) {
      throw new BackendError(
        `webgpu: a tensor of ${bytes} bytes exceeds this device's maxStorageBufferBindingSize (${this.limits.maxStorageBufferBindingSize} bytes)`,
      );
    }
    this.liveBytes += size;
    this.liveBuffers++;
    this.sizeLastAsked.set(size, ++this.asks);
    const free = this.pool.get(size);
    if (free && free.length > 0) {
      this.poolBytes -= size;
      return free.pop()!;
    }
    const freedInBatch = this.batchFreed.get(size);
    if (freedInBatch && freedInBatch.length > 0) {
      const buffer = freedInBatch.pop()!;
      this.reusedInBatch.add(buffer);
      return buffer;
    }
    return this.device.createBuffer({ size, usage: USAGE_STORAGE | USAGE_COPY_SRC | USAGE_COPY_DST });
  }

  /** Gives a buffer back: to the pool, or, while a batch is recorded, to the batch's freed buffers. */
  releaseBuffer(buffer: GPUBuffer): void {
    this.liveBytes -= buffer.size;
    this.liveBuffers--;
    if (this.encoder) {
      let list = this.batchFreed.get(buffer.size);
      if (!list) this.batchFreed.set(buffer.size, (list = []));
      list.push(buffer);
    } else this.recycle(buffer);
  }

  private recycle(buffer: GPUBuffer): void {
    if (!this.disposed && this.poolBytes + buffer.size > this.poolLimitBytes) this.makeRoom(buffer.size);
    if (this.disposed || this.poolBytes + buffer.size > this.poolLimitBytes) {
      buffer.destroy();
      return;
    }
    let list = this.pool.get(buffer.size);
    if (!list) this.pool.set(buffer.size, (list = []));
    list.push(buffer);
    this.poolBytes += buffer.size;
  }

  /**
   * Destroys pooled buffers of other size classes, longest unused first, until `size` more bytes fit. (A
   * forward over a long sequence fills the pool with its large buffers; the decoding that follows frees
   * small ones, which must be kept, or every token allocates anew.)
   */
  private makeRoom(size: number): void {
    const classes = [...this.pool.keys()].filter((s) => s !== size).sort((a, b) => (this.sizeLastAsked.get(a) ?? 0) - (this.sizeLastAsked.get(b) ?? 0));
    for (const s of classes) {
      const list = this.pool.get(s)!;
      while (list.length > 0 && this.poolBytes + size > this.poolLimitBytes) {
        list.pop()!.destroy();
        this.poolBytes -= s;
      }
      if (list.length === 0) this.pool.delete(s);
      if (this.poolBytes + size <= this.poolLimitBytes) return;
    }
  }

  allocate(_dtype: DType, size: number): DataId {
    return new WebGpuData(this.createBuffer(size * 4), size);
  }

  write(dataId: DataId, values: TypedArray): void {
    this.checkUsable('write');
    const { buffer } = dataId as WebGpuData;
    // Recorded dispatches may still read this buffer's old content; the upload must come after them.
    if (this.reusedInBatch.has(buffer)) this.flush();
    if (values.length > 0) this.device.queue.writeBuffer(buffer, 0, values.buffer, values.byteOffset, values.byteLength);
  }

  free(dataId: DataId): void {
    if (this.disposed) return;
    this.releaseBuffer((dataId as WebGpuData).buffer);
  }

  memory(): { bytes: number; buffers: number } {
    return { bytes: this.liveBytes, buffers: this.liveBuffers };
  }

  /** Destroys the freed buffers held for reuse (the pool refills as tensors are freed again). */
  trimPool(): void {
    for (const list of this.pool.values()) for (const buffer of list) buffer.destroy();
    this.pool.clear();
    this.poolBytes = 0;
    this.bindGroups.clear();
  }

  /** Freed buffers held for reuse (pool) and those waiting for the current batch. */
  poolMemory(): { bytes: number; buffers: number; pending: number } {
    let buffers = 0;
    for (const list of this.pool.values()) buffers += list.length;
    let pending = 0;
    for (const list of this.batchFreed.values()) pending += list.length;
    return { bytes: this.poolBytes, buffers, pending };
  }

  // ---------------------------------------------------------------- reading

  async read(dataId: DataId, dtype: DType, size: number): Promise<TypedArray> {
    this.checkUsable('read');
    const out = allocArray(dtype, size);
    if (size === 0) return out;
    const bytes = size * 4;
    const stagingSize = sizeClass(bytes);
    const staging =
      this.stagingPool.get(stagingSize)?.pop() ?? this.device.createBuffer({ size: stagingSize, usage: USAGE_MAP_READ | USAGE_COPY_DST });
    this.ensureEncoder();
    this.endPass();
    this.encoder!.copyBufferToBuffer((dataId as WebGpuData).buffer, 0, staging, 0, bytes);
    this.flush();
    try {
      await staging.mapAsync(MAP_MODE_READ, 0, bytes);
    } catch (e) {
      this.checkUsable('read');
      throw new BackendError(`webgpu: reading ${size} values failed: ${(e as Error).message}`);
    }
    out.set(new (dtype === 'int32' ? Int32Array : Float32Array)(staging.getMappedRange(0, bytes)));
    staging.unmap();
    let list = this.stagingPool.get(stagingSize);
    if (!list) this.stagingPool.set(stagingSize, (list = []));
    if (list.length < 4) list.push(staging);
    else staging.destroy();
    this.raiseGpuError();
    return out;
  }

  readSync(): TypedArray {
    throw new BackendError('webgpu: tensors on the GPU cannot be read synchronously; use `await t.data()` (or `await t.item()`)');
  }

  /** Resolves when everything submitted so far has run on the GPU (for timing). */
  async sync(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    this.checkUsable('sync');
    this.raiseGpuError();
  }

  /**
   * Throws the first GPU error reported since the last read or sync (a shader that did not compile, an
   * invalid dispatch): the work it belonged to did not run, so its outputs hold nothing meaningful.
   */
  private raiseGpuError(): void {
    if (!this.uncaptured) return;
    const message = this.uncaptured;
    this.uncaptured = null;
    throw new BackendError(`webgpu: a GPU command failed: ${message}`);
  }

  // ---------------------------------------------------------------- dispatching

  private pipeline(program: Program): { pipeline: GPUComputePipeline; layout: GPUBindGroupLayout } {
    let compiled = this.pipelines.get(program.key);
    if (!compiled) {
      const module = this.device.createShaderModule({ code: program.source(), label: program.key });
      const pipeline = this.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' }, label: program.key });
      compiled = { pipeline, layout: pipeline.getBindGroupLayout(0) };
      this.pipelines.set(program.key, compiled);
    }
    return compiled;
  }

  private ensureEncoder(): void {
    this.encoder ??= this.device.createCommandEncoder();
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }

  /** Records one dispatch into the current batch; submits the batch when it is full. */
  dispatch({ program, params, buffers, workgroups }: Dispatch): void {
    this.checkUsable('dispatch');
    if (workgroups[0] === 0 || workgroups[1] === 0 || workgroups[2] === 0) return;
    const paramBytes = Math.max(16, Math.ceil((params.length * 4) / 16) * 16);
    if (this.paramBytes + paramBytes > PARAM_ARENA_BYTES) this.flush();
    const offset = this.paramBytes;
    this.paramArena.set(params, offset / 4);
    this.paramBytes = Math.ceil((offset + paramBytes) / this.paramAlign) * this.paramAlign;

    const { pipeline, layout } = this.pipeline(program);
    let key = `${program.key}|${offset}|${paramBytes}`;
    for (const buffer of buffers) key += `|${this.bufferId(buffer)}`;
    let bindGroup = this.bindGroups.get(key);
    if (!bindGroup) {
      if (this.bindGroups.size >= BIND_GROUP_CACHE) this.bindGroups.clear();
      bindGroup = this.device.createBindGroup({
        layout,
        entries: [
          { binding: 0, resource: { buffer: this.paramBuffer, offset, size: paramBytes } },
          ...buffers.map((buffer, i) => ({ binding: i + 1, resource: { buffer } })),
        ],
      });
      this.bindGroups.set(key, bindGroup);
    }
    this.ensureEncoder();
    this.pass ??= this.encoder!.beginComputePass();
    this.pass.setPipeline(pipeline);
    this.pass.setBindGroup(0, bindGroup);
    this.pass.dispatchWorkgroups(workgroups[0], workgroups[1], workgroups[2]);
    if (++this.dispatches >= this.batchSize) this.flush();
  }

  private bufferId(buffer: GPUBuffer): number {
    let id = this.bufferIds.get(buffer);
    if (id === undefined) this.bufferIds.set(buffer, (id = this.nextBufferId++));
    return id;
  }

  /** Submits the recorded batch (parameters first, on the same queue, so they arrive in order). */
  flush(): void {
    if (!this.encoder || this.disposed) return;
    this.endPass();
    if (this.paramBytes > 0) this.device.queue.writeBuffer(this.paramBuffer, 0, this.paramArena.buffer, 0, this.paramBytes);
    this.device.queue.submit([this.encoder.finish()]);
    this.encoder = null;
    this.dispatches = 0;
    this.paramBytes = 0;
    const freed = this.batchFreed;
    this.batchFreed = new Map();
    this.reusedInBatch.clear();
    for (const list of freed.values()) for (const buffer of list) this.recycle(buffer);
  }

  dispose(): void {
    if (this.disposed) return;
    this.flush();
    this.disposed = true;
    for (const list of [...this.pool.values(), ...this.stagingPool.values()]) for (const b of list) b.destroy();
    this.pool.clear();
    this.stagingPool.clear();
    this.paramBuffer.destroy();
    this.device.destroy();
  }
}
