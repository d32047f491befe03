/** Causal convolution of a sequence with a kernel by FFT, through core's differentiable rfft/irfft. */
import { irfft, rfft, ShapeError, shapeStr, slice, type Tensor } from '@ssmjs/core';
import { cmul, fromPairs, toPairs } from './complex';

/**
 * y_t = Σ_{s ≤ t} K_{t−s}·u_s per channel: u [..., H, L], K [H, L] → [..., H, L]. Both are zero-padded to n ≥ 2L
 * so the circular convolution of the FFT is the linear one: y = irfft(rfft(u, n)·rfft(K, n), n)[..., :L]. n is
 * the next power of two (radix-2 transforms; other lengths take the slower Bluestein/direct paths).
 */
export function fftConv(u: Tensor, K: Tensor): Tensor {
  if (u.rank < 2) throw new ShapeError('fftConv', `u must be [..., H, L], got ${shapeStr(u.shape)}`);
  const [H, L] = u.shape.slice(-2);
  if (K.rank !== 2 || K.shape[0] !== H || K.shape[1] !== L) {
    throw new ShapeError('fftConv', `K must be [H, L] = [${H}, ${L}] for u ${shapeStr(u.shape)}, got ${shapeStr(K.shape)}`);
  }
  const n = 2 ** Math.ceil(Math.log2(2 * L));
  const product = cmul(fromPairs(rfft(u, n)), fromPairs(rfft(K, n)));
  const full = irfft(toPairs(product), n);
  return slice(full, full.shape.map(() => 0), [...u.shape.slice(0, -1), L]);
}
