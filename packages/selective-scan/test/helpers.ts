import { readFileSync } from 'node:fs';
import { Generator, tensor, type Tensor } from '@ssmjs/core';

export interface FixtureTensor {
  shape: number[];
  dtype: 'float32' | 'float64';
  data: number[];
}

type Maybe<T> = T | null;

export interface ScanCase {
  name: string;
  batch: number;
  dim: number;
  dstate: number;
  seqlen: number;
  deltaSoftplus: boolean;
  inputs: Record<'u' | 'delta' | 'A' | 'B' | 'C', FixtureTensor> & Record<'D' | 'z' | 'deltaBias' | 'initialState', Maybe<FixtureTensor>>;
  outputs: { y: FixtureTensor; lastState: FixtureTensor };
  upstream: { y: FixtureTensor; lastState: FixtureTensor };
  grads: Record<string, Maybe<FixtureTensor>>;
}

export interface StepCase {
  name: string;
  batch: number;
  dim: number;
  dstate: number;
  dtSoftplus: boolean;
  inputs: Record<'state' | 'x' | 'dt' | 'A' | 'B' | 'C', FixtureTensor> & Record<'D' | 'z' | 'dtBias', Maybe<FixtureTensor>>;
  outputs: { newState: FixtureTensor; out: FixtureTensor };
}

export function loadFixtures(): { cases: ScanCase[]; stepCases: StepCase[] } {
  const url = new URL('./fixtures/scan.json', import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8'));
}

export function fromFixture(t: FixtureTensor): Tensor {
  return tensor(Float32Array.from(t.data), t.shape);
}

/**
 * Elementwise |got − want| ≤ tol·(max|want| + |want|): f32-style tolerance relative to the tensor's
 * scale, so tiny entries next to large ones are not held to a tighter bound than f32 can give.
 */
export function maxRelativeError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  if (got.length !== want.length) throw new Error(`length ${got.length} ≠ ${want.length}`);
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]) / (scale + Math.abs(want[i]) || 1);
    worst = Math.max(worst, Number.isNaN(err) ? Infinity : err);
  }
  return worst;
}

export interface RandomScanInputs {
  u: Tensor;
  delta: Tensor;
  A: Tensor;
  B: Tensor;
  C: Tensor;
  D: Tensor;
  z: Tensor;
  deltaBias: Tensor;
  initialState: Tensor;
}

/** Random inputs in the ranges Mamba sees: A negative, delta around softplus's knee. */
export function randomScanInputs(batch: number, dim: number, N: number, L: number, seed = 1): RandomScanInputs {
  const rng = new Generator(seed);
  const make = (shape: number[], f: () => number) => {
    const size = shape.reduce((a, b) => a * b, 1);
    return tensor(Float32Array.from({ length: size }, f), shape);
  };
  return {
    u: make([batch, dim, L], () => rng.normal()),
    delta: make([batch, dim, L], () => rng.normal() * 0.5 - 1),
    A: make([dim, N], () => -0.2 - rng.uniform() * 2),
    B: make([batch, N, L], () => rng.normal()),
    C: make([batch, N, L], () => rng.normal()),
    D: make([dim], () => rng.normal()),
    z: make([batch, dim, L], () => rng.normal()),
    deltaBias: make([dim], () => rng.normal() * 0.3),
    initialState: make([batch, dim, N], () => rng.normal()),
  };
}
