import type { Backend, DataId } from './backend';
import type { DType, TypedArray } from './dtype';
import { DisposedError, shapeStr } from './errors';
import { engine } from './engine';

/**
 * A handle to dense row-major data owned by a backend. Tensors are immutable; every op makes a new
 * one. Free it with `dispose()` (or `using`, or inside `tidy`).
 */
export class Tensor {
  readonly id: number;
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly size: number;
  readonly backend: Backend;
  /** @internal */
  readonly dataId: DataId;
  /** @internal set by the engine */
  disposed = false;
  /** @internal `keep()` makes a tensor survive the `tidy` scopes it was made in. */
  kept = false;

  /** @internal Tensors are made by ops, never with `new`. */
  constructor(id: number, shape: readonly number[], dtype: DType, backend: Backend, dataId: DataId, size: number) {
    this.id = id;
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.backend = backend;
    this.dataId = dataId;
    this.size = size;
  }

  get rank(): number {
    return this.shape.length;
  }

  /** A copy of the values (waits for the GPU where needed). */
  async data(): Promise<TypedArray> {
    this.assertLive('data()');
    this.backend.flush?.();
    return this.backend.read(this.dataId, this.dtype, this.size);
  }

  /** A copy of the values, where the backend can read synchronously (cpu, wasm). */
  dataSync(): TypedArray {
    this.assertLive('dataSync()');
    return this.backend.readSync(this.dataId, this.dtype, this.size);
  }

  /** The single value of a one-element tensor. */
  async item(): Promise<number> {
    const d = await this.data();
    if (d.length !== 1) throw new DisposedError(`item() needs one element, tensor has shape ${shapeStr(this.shape)}`);
    return d[0];
  }

  dispose(): void {
    engine.disposeTensor(this);
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  /** @internal */
  assertLive(what: string): void {
    if (this.disposed) throw new DisposedError(`${what} on tensor #${this.id} ${shapeStr(this.shape)}`);
  }

  toString(): string {
    return `Tensor(${shapeStr(this.shape)}, ${this.dtype}, ${this.backend.name}${this.disposed ? ', disposed' : ''})`;
  }
}
