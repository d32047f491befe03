import { tensor, type Tensor } from '@ssmjs/core';
import type { ComplexArray } from '@ssmjs/hippo';
import type { Complex } from '../src/complex';

/** A deterministic generator (mulberry32), so test data need no tensors. */
export function randomGenerator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function normals(random: () => number, count: number): Float64Array {
  const out = new Float64Array(count);
  for (let k = 0; k < count; k++) out[k] = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return out;
}

export function randomComplex(random: () => number, count: number): ComplexArray {
  return { re: normals(random, count), im: normals(random, count) };
}

/** Per-channel float64 complex arrays stacked into an [H, n] complex tensor pair. */
export function stackChannels(channels: readonly ComplexArray[]): Complex {
  const H = channels.length;
  const n = channels[0].re.length;
  const re = new Float32Array(H * n);
  const im = new Float32Array(H * n);
  channels.forEach((c, h) => {
    re.set(c.re, h * n);
    im.set(c.im, h * n);
  });
  return { re: tensor(re, [H, n]), im: tensor(im, [H, n]) };
}

/** The float64 values the float32 tensors actually hold, so references see the same inputs. */
export function roundToF32(c: ComplexArray): ComplexArray {
  return { re: Float64Array.from(Float32Array.from(c.re)), im: Float64Array.from(Float32Array.from(c.im)) };
}

/** max |a − b| / max |b|. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let diff = 0;
  let scale = 0;
  for (let k = 0; k < a.length; k++) {
    diff = Math.max(diff, Math.abs(a[k] - b[k]));
    scale = Math.max(scale, Math.abs(b[k]));
  }
  return diff / scale;
}

export const values = (t: Tensor): number[] => Array.from(t.dataSync());

/** Row h of a row-major [rows, width] array. */
export function row(data: ArrayLike<number>, h: number, width: number): number[] {
  return Array.from(data).slice(h * width, (h + 1) * width);
}
