import { engine } from '../engine';
import { ShapeError, ValueError, shapeStr } from '../errors';
import type { Tensor } from '../tensor';
import { mul } from './arithmetic';
import { pad, slice } from './shape';
import { assertFloat, run1 } from './util';

/** Bins of a real signal of length n: 0 … ⌊n/2⌋. */
function binCount(n: number): number {
  return Math.floor(n / 2) + 1;
}

/**
 * c_k/n for bin k, where irfft(X)_t = (1/n)·Σ_k c_k·Re(X_k·e^(2πi·kt/n)): c_k = 1 for bin 0 and (n even)
 * bin n/2, which have no mirror image, and 2 for the others. As a [bins, 1] tensor to scale (re, im).
 */
function binWeights(n: number, scale: (c: number) => number, like: Tensor): Tensor {
  const bins = binCount(n);
  const w = new Float32Array(bins);
  for (let k = 0; k < bins; k++) w[k] = scale(k === 0 || 2 * k === n ? 1 : 2);
  return engine.fromValues(w, [bins, 1], 'float32', like.backend);
}

/** x cut or zero-padded to `length` on axis `axis`. */
function fitLength(x: Tensor, axis: number, length: number): Tensor {
  const have = x.shape[axis];
  if (have === length) return x;
  if (have > length) return slice(x, x.shape.map(() => 0), x.shape.map((d, i) => (i === axis ? length : d)));
  return pad(x, x.shape.map((_, i) => [0, i === axis ? length - have : 0] as [number, number]));
}

function assertLength(op: string, n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new ValueError(op, `n must be a positive integer, got ${n}`);
}

/**
 * Real FFT of the last axis, cut or zero-padded to n (default: its length): [..., n/2+1, 2] with
 * (re, im) pairs, X_k = Σ_t x_t·e^(−2πi·kt/n).
 */
export function rfft(x: Tensor, n?: number): Tensor {
  assertFloat('rfft', 'x', x);
  if (x.rank < 1) throw new ShapeError('rfft', `x needs rank ≥ 1, got ${shapeStr(x.shape)}`);
  const length = n ?? x.shape[x.rank - 1];
  assertLength('rfft', length);
  return run1('rfft', [x], { n: length });
}
engine.registerGradient('rfft', ([dy], { inputs: [x], attrs }) => {
  // rfft's adjoint: dx_t = Σ_k Re((dRe_k + i·dIm_k)·e^(2πi·kt/n)) = irfft(dX·n/c_k), then undo the cut or pad.
  const n = attrs.n as number;
  const dx = irfft(mul(dy, binWeights(n, (c) => n / c, dy)), n);
  return [fitLength(dx, x.rank - 1, x.shape[x.rank - 1])];
});

/**
 * Inverse of rfft (numpy norm 'backward'): X [..., m, 2] (re, im) → real [..., n]. Uses the first n/2+1
 * bins (missing ones are zero); the imaginary parts of bin 0 and, for even n, bin n/2 do not matter.
 */
export function irfft(X: Tensor, n: number): Tensor {
  assertFloat('irfft', 'X', X);
  if (X.rank < 2 || X.shape[X.rank - 1] !== 2) {
    throw new ShapeError('irfft', `X must be [..., bins, 2] (re, im pairs), got ${shapeStr(X.shape)}`);
  }
  assertLength('irfft', n);
  return run1('irfft', [X], { n });
}
engine.registerGradient('irfft', ([dy], { inputs: [X], attrs }) => {
  // x_t = (1/n)·Σ_k c_k·(Re_k cos θ − Im_k sin θ), so dX_k = (c_k/n)·rfft(dx)_k; bins past n/2 get nothing.
  const n = attrs.n as number;
  const dX = mul(rfft(dy, n), binWeights(n, (c) => c / n, dy));
  return [fitLength(dX, X.rank - 2, X.shape[X.rank - 2])];
});
