import { allocArray, type DType, type TypedArray } from '../dtype';
import { engine } from '../engine';
import { DTypeError, ShapeError, shapeStr } from '../errors';
import { Generator, globalGenerator } from '../random';
import { assertShape, sizeOf } from '../shape';
import type { Tensor } from '../tensor';

type NestedNumbers = number | boolean | readonly NestedNumbers[];

function flatten(values: NestedNumbers, out: number[], shape: number[], depth: number): void {
  if (Array.isArray(values)) {
    if (shape.length === depth) shape.push(values.length);
    else if (shape[depth] !== values.length) throw new ShapeError('tensor', `ragged nested array at depth ${depth}`);
    for (const v of values) flatten(v, out, shape, depth + 1);
  } else {
    if (shape.length !== depth) throw new ShapeError('tensor', `ragged nested array at depth ${depth}`);
    out.push(Number(values));
  }
}

/**
 * A tensor from values: a typed array or (nested) number array, with an optional shape (default: the
 * nesting, or 1-D) and dtype (default: int32 for an Int32Array, else float32).
 */
export function tensor(values: TypedArray | NestedNumbers | ArrayLike<number>, shape?: readonly number[], dtype?: DType): Tensor {
  let flat: ArrayLike<number>;
  let inferred: number[];
  if (ArrayBuffer.isView(values)) {
    flat = values as TypedArray;
    inferred = [flat.length];
    dtype ??= values instanceof Int32Array ? 'int32' : 'float32';
  } else if (typeof values === 'number' || typeof values === 'boolean') {
    flat = [Number(values)];
    inferred = [];
  } else {
    const list: number[] = [];
    inferred = [];
    flatten(values as NestedNumbers, list, inferred, 0);
    flat = list;
  }
  dtype ??= 'float32';
  if (dtype !== 'float32' && dtype !== 'int32') throw new DTypeError('tensor', `unknown dtype '${String(dtype)}'`);
  const finalShape = shape ? [...shape] : inferred;
  assertShape('tensor', finalShape);
  if (sizeOf(finalShape) !== flat.length) {
    throw new ShapeError('tensor', `${flat.length} values do not fill shape ${shapeStr(finalShape)}`);
  }
  const data = allocArray(dtype, flat.length);
  data.set(flat as ArrayLike<number>);
  return engine.fromValues(data, finalShape, dtype);
}

export function scalar(value: number, dtype: DType = 'float32'): Tensor {
  return tensor([value], [], dtype);
}

/** A scalar on the backend of `like` (ops use it for number operands, so mixed backends never meet). */
export function scalarLike(value: number, like: Tensor, dtype: DType = like.dtype): Tensor {
  const data = allocArray(dtype, 1);
  data[0] = value;
  return engine.fromValues(data, [], dtype, like.backend);
}

export function full(shape: readonly number[], value: number, dtype: DType = 'float32'): Tensor {
  assertShape('full', shape);
  const data = allocArray(dtype, sizeOf(shape));
  data.fill(value);
  return engine.fromValues(data, shape, dtype);
}

export function zeros(shape: readonly number[], dtype: DType = 'float32'): Tensor {
  return full(shape, 0, dtype);
}

export function ones(shape: readonly number[], dtype: DType = 'float32'): Tensor {
  return full(shape, 1, dtype);
}

/** Zeros of `t`'s shape and dtype, on `t`'s backend. */
export function zerosLike(t: Tensor): Tensor {
  return engine.fromValues(allocArray(t.dtype, t.size), t.shape, t.dtype, t.backend);
}

/** Ones of `t`'s shape and dtype, on `t`'s backend. */
export function onesLike(t: Tensor): Tensor {
  return engine.fromValues(allocArray(t.dtype, t.size).fill(1), t.shape, t.dtype, t.backend);
}

/** [start, stop) in steps of `step` (NumPy's arange). */
export function arange(start: number, stop?: number, step = 1, dtype: DType = 'float32'): Tensor {
  if (stop === undefined) [start, stop] = [0, start];
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const data = allocArray(dtype, n);
  for (let i = 0; i < n; i++) data[i] = start + i * step;
  return engine.fromValues(data, [n], dtype);
}

export interface RandomOptions {
  /** A seed for this call alone; without it the global generator (`manualSeed`) is used. */
  seed?: number;
  generator?: Generator;
}

function generatorFor(options: RandomOptions): Generator {
  return options.generator ?? (options.seed !== undefined ? new Generator(options.seed) : globalGenerator);
}

/** Normal values with the given mean and standard deviation. */
export function randn(shape: readonly number[], options: RandomOptions & { mean?: number; std?: number } = {}): Tensor {
  assertShape('randn', shape);
  const g = generatorFor(options);
  const { mean = 0, std = 1 } = options;
  const data = new Float32Array(sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = mean + std * g.normal();
  return engine.fromValues(data, shape, 'float32');
}

/** Uniform values in [low, high). */
export function rand(shape: readonly number[], options: RandomOptions & { low?: number; high?: number } = {}): Tensor {
  assertShape('rand', shape);
  const g = generatorFor(options);
  const { low = 0, high = 1 } = options;
  const data = new Float32Array(sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = low + (high - low) * g.uniform();
  return engine.fromValues(data, shape, 'float32');
}
