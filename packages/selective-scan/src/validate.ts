/** Argument checks shared by the ops: typed errors that name the argument, what was expected and what came. */
import { DTypeError, ShapeError, ValueError, type Tensor } from '@ssmjs/core';

const shapeStr = (shape: readonly number[]) => `[${shape.join(', ')}]`;

export function checkFloat32(op: string, name: string, t: Tensor): void {
  if (t.dtype !== 'float32') throw new DTypeError(op, `${name} must be float32, got ${t.dtype} ${shapeStr(t.shape)}`);
}

/**
 * Checks `t` against named axes. Sizes already known (in `sizes`) must match; unknown ones are taken from
 * `t`. Names the axis that disagrees and where its expected size came from.
 */
export function checkShape(op: string, name: string, t: Tensor, axes: readonly string[], sizes: Record<string, number> = {}): void {
  const expected = `(${axes.map((a) => (a in sizes ? `${a}=${sizes[a]}` : a)).join(', ')})`;
  if (t.rank !== axes.length) {
    throw new ShapeError(op, `${name} must have rank ${axes.length} ${expected}, got ${shapeStr(t.shape)}`);
  }
  axes.forEach((axis, i) => {
    if (axis in sizes && t.shape[i] !== sizes[axis]) {
      throw new ShapeError(op, `${name} must have shape ${expected}, got ${shapeStr(t.shape)} (axis ${i}, ${axis}: ${t.shape[i]} ≠ ${sizes[axis]})`);
    }
  });
}

/** Every dimension must be at least 1; `source` says which argument each came from. */
export function checkPositive(op: string, dims: Record<string, number>, source: Record<string, string>): void {
  for (const [dim, size] of Object.entries(dims)) {
    if (size < 1) throw new ShapeError(op, `${dim} (from ${source[dim]}) must be at least 1, got ${size}`);
  }
}

export function checkChunkSize(op: string, chunkSize: number): void {
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new ValueError(op, `chunkSize must be a positive integer, got ${chunkSize}`);
}

/** A tensors already found finite. Tensors are immutable (parameters are swapped, not written), so once is enough. */
const finite = new WeakSet<Tensor>();

/**
 * A must be finite: a NaN or ±Infinity there would silently poison every later state. Checked where data
 * can be read synchronously (cpu, wasm), once per A tensor, so a decoding loop that reuses A pays for it
 * once; on webgpu the check is skipped, since reading would stall the queue, and a non-finite A shows up
 * as non-finite outputs instead.
 */
export function checkFiniteA(op: string, name: string, A: Tensor): void {
  if (A.backend.name === 'webgpu' || finite.has(A)) return;
  const values = A.dataSync();
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      const [row, col] = [Math.floor(i / A.shape[1]), i % A.shape[1]];
      throw new ValueError(op, `${name} must be finite, got ${values[i]} at [${row}, ${col}]`);
    }
  }
  finite.add(A);
}
