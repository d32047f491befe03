import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { decodeEntry, parseSafetensors, tensor, type Tensor } from '@ssmjs/core';

// WebGPU in Node comes from the `webgpu` package (Dawn); without a GPU it runs on SwiftShader (Debian's chromium).
process.env.VK_ICD_FILENAMES ??= '/usr/lib/chromium/vk_swiftshader_icd.json';

/**
 * Backends the model tests run on. The tests only read tensors asynchronously, as webgpu needs;
 * @ssmjs/selective-scan registers the webgpu scan kernels.
 */
export const BACKENDS = ['cpu', 'wasm', 'webgpu'];

export const fixtureDir = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

export interface Expected {
  shape: number[];
  data: Float32Array | Int32Array;
}

/** The reference tensors of a fixture (float64 ones decoded to float32: far below the tolerances). */
export function loadExpected(name: string): Map<string, Expected> {
  const bytes = new Uint8Array(readFileSync(`${fixtureDir(name)}/expected.safetensors`));
  const { entries } = parseSafetensors(bytes);
  const out = new Map<string, Expected>();
  for (const [key, entry] of Object.entries(entries)) {
    const host = decodeEntry(key, entry);
    out.set(key, { shape: [...host.shape], data: host.data });
  }
  return out;
}

export function idsTensor(e: Expected): Tensor {
  return tensor(Int32Array.from(e.data), e.shape, 'int32');
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return Number.isNaN(m) ? Infinity : m;
}

/** max |a − b| / max |b|: the error relative to the reference's scale. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  return maxAbsDiff(a, b) / (scale || 1);
}

/** Rows [from, to) of axis 1 of a [batch, L, V] array, as a flat array [batch, to − from, V]. */
export function positions(data: ArrayLike<number>, shape: readonly number[], from: number, to: number): Float32Array {
  const [batch, L, V] = shape;
  const out = new Float32Array(batch * (to - from) * V);
  for (let b = 0; b < batch; b++) {
    for (let t = from; t < to; t++) {
      for (let v = 0; v < V; v++) out[(b * (to - from) + t - from) * V + v] = data[(b * L + t) * V + v];
    }
  }
  return out;
}
