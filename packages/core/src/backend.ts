import type { DType, TypedArray } from './dtype';

/** An opaque handle to data a backend owns (a typed array, a region of wasm memory, a GPU buffer). */
export type DataId = object;

/** What a kernel sees of a tensor: where its data is, its shape and dtype. */
export interface TensorInfo {
  readonly dataId: DataId;
  readonly shape: readonly number[];
  readonly dtype: DType;
}

export type Attrs = Record<string, unknown>;

/**
 * The whole contract between the engine and a backend: allocate, write, read, free. Kernels
 * (registered per backend) do the computing; they allocate their outputs through the backend.
 */
export interface Backend {
  readonly name: string;
  allocate(dtype: DType, size: number): DataId;
  write(dataId: DataId, values: TypedArray): void;
  /** A copy of the data; the only way to read a GPU tensor. */
  read(dataId: DataId, dtype: DType, size: number): Promise<TypedArray>;
  /** A copy of the data, where the backend can read without waiting; throws otherwise. */
  readSync(dataId: DataId, dtype: DType, size: number): TypedArray;
  free(dataId: DataId): void;
  /** Bytes and buffers held for live tensors. */
  memory(): { bytes: number; buffers: number };
  /** Submits queued work (GPU command batches); a no-op where work runs eagerly. */
  flush?(): void;
  /** A kernel for an op that has none registered for this backend (wasm: the cpu kernel run on views). */
  fallbackKernel?(name: string): KernelFn | undefined;
  dispose?(): void;
}

/** A kernel computes one op on one backend. Inputs are valid for the call; outputs are new data. */
export type KernelFn<B extends Backend = Backend> = (
  inputs: readonly TensorInfo[],
  attrs: Attrs,
  backend: B,
) => TensorInfo | TensorInfo[];
