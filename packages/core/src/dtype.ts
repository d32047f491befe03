/** Element types. `float32` for values, `int32` for ids, indices and masks. */
export type DType = 'float32' | 'int32';

export type TypedArray = Float32Array | Int32Array;

export function bytesPerElement(_dtype: DType): number {
  return 4;
}

export function allocArray(dtype: DType, size: number): TypedArray {
  return dtype === 'int32' ? new Int32Array(size) : new Float32Array(size);
}

export function isDType(x: unknown): x is DType {
  return x === 'float32' || x === 'int32';
}
