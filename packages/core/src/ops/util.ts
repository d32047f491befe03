import { engine } from '../engine';
import { DTypeError, shapeStr } from '../errors';
import type { Tensor } from '../tensor';

/** Runs a single-output kernel. */
export function run1(name: string, inputs: readonly Tensor[], attrs: Record<string, unknown> = {}): Tensor {
  return engine.runKernel(name, inputs, attrs)[0];
}

export function assertFloat(op: string, name: string, t: Tensor): void {
  if (t.dtype !== 'float32') throw new DTypeError(op, `${name} must be float32, got ${t.dtype} ${shapeStr(t.shape)}`);
}

export function assertInt(op: string, name: string, t: Tensor): void {
  if (t.dtype !== 'int32') throw new DTypeError(op, `${name} must be int32, got ${t.dtype} ${shapeStr(t.shape)}`);
}
