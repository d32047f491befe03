import type { Backend, DataId, TensorInfo } from '../../backend';
import { allocArray, type DType, type TypedArray } from '../../dtype';
import { sizeOf } from '../../shape';

/** Data of the cpu backend: a typed array. */
export class CpuData {
  constructor(readonly values: TypedArray) {}
}

/** Plain TypeScript over typed arrays: the reference every other backend is tested against. */
export class CpuBackend implements Backend {
  readonly name = 'cpu';
  private bytes = 0;
  private buffers = 0;

  allocate(dtype: DType, size: number): DataId {
    this.bytes += size * 4;
    this.buffers++;
    return new CpuData(allocArray(dtype, size));
  }

  write(dataId: DataId, values: TypedArray): void {
    (dataId as CpuData).values.set(values);
  }

  read(dataId: DataId): Promise<TypedArray> {
    return Promise.resolve((dataId as CpuData).values.slice());
  }

  readSync(dataId: DataId): TypedArray {
    return (dataId as CpuData).values.slice();
  }

  free(dataId: DataId): void {
    this.bytes -= (dataId as CpuData).values.length * 4;
    this.buffers--;
  }

  memory(): { bytes: number; buffers: number } {
    return { bytes: this.bytes, buffers: this.buffers };
  }

  // Helpers for kernels: direct access, no copies.

  values<T extends TypedArray = Float32Array>(info: TensorInfo): T {
    return (info.dataId as CpuData).values as T;
  }

  /** A new output; `values` (owned from here on) or zeros. */
  output(shape: readonly number[], dtype: DType = 'float32', values?: TypedArray): TensorInfo {
    if (values) {
      this.bytes += values.length * 4;
      this.buffers++;
      return { dataId: new CpuData(values), shape, dtype };
    }
    return { dataId: this.allocate(dtype, sizeOf(shape)), shape, dtype };
  }
}
