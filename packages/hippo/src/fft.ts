/**
 * A small complex FFT for any length: iterative radix-2 for powers of two, Bluestein's chirp-z
 * (three power-of-two FFTs) otherwise. Unnormalized: forward X_k = Σ x_l e^{−2πikl/n}, inverse with e^{+…}.
 */
import type { ComplexArray } from './complex';
import { HippoError } from './errors';

/** The discrete Fourier transform of `x` (returns a new array); `inverse` flips the sign and divides by n. */
export function fft(x: ComplexArray, inverse = false): ComplexArray {
  const n = x.re.length;
  if (x.im.length !== n) throw new HippoError('SHAPE', `fft: re and im must have the same length, got ${n} and ${x.im.length}`);
  const re = Float64Array.from(x.re);
  const im = Float64Array.from(x.im);
  if (n > 1) {
    if ((n & (n - 1)) === 0) radix2(re, im, inverse);
    else bluestein(re, im, inverse);
  }
  if (inverse) {
    for (let k = 0; k < n; k++) {
      re[k] /= n;
      im[k] /= n;
    }
  }
  return { re, im };
}

/**
 * The real signal of length n whose spectrum's first ⌊n/2⌋+1 entries are `half` (like numpy/torch irfft):
 * the other bins are the conjugates, and the imaginary parts of the DC and (for even n) Nyquist bins are dropped.
 */
export function irfft(half: ComplexArray, n: number): Float64Array {
  const bins = Math.floor(n / 2) + 1;
  if (half.re.length < bins) throw new HippoError('SHAPE', `irfft: need ${bins} bins for n = ${n}, got ${half.re.length}`);
  const full: ComplexArray = { re: new Float64Array(n), im: new Float64Array(n) };
  for (let k = 0; k < bins; k++) {
    const edge = k === 0 || 2 * k === n;
    full.re[k] = half.re[k];
    full.im[k] = edge ? 0 : half.im[k];
    if (k > 0 && !edge) {
      full.re[n - k] = half.re[k];
      full.im[n - k] = -half.im[k];
    }
  }
  return fft(full, true).re;
}

/** In-place iterative Cooley–Tukey for a power-of-two length (no normalization). */
function radix2(re: Float64Array, im: Float64Array, inverse: boolean): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j], re[i]];
      [im[i], im[j]] = [im[j], im[i]];
    }
  }
  const sign = inverse ? 1 : -1;
  for (let size = 2; size <= n; size *= 2) {
    const halfSize = size / 2;
    const step = (sign * 2 * Math.PI) / size;
    for (let k = 0; k < halfSize; k++) {
      // Twiddles computed directly (not by recurrence) to keep float64 accuracy for long transforms.
      const wr = Math.cos(step * k);
      const wi = Math.sin(step * k);
      for (let start = 0; start < n; start += size) {
        const a = start + k;
        const b = a + halfSize;
        const tr = re[b] * wr - im[b] * wi;
        const ti = re[b] * wi + im[b] * wr;
        re[b] = re[a] - tr;
        im[b] = im[a] - ti;
        re[a] += tr;
        im[a] += ti;
      }
    }
  }
}

/** Any length n as a convolution with the chirp e^{±iπk²/n}, done by power-of-two FFTs of size ≥ 2n − 1. */
function bluestein(re: Float64Array, im: Float64Array, inverse: boolean): void {
  const n = re.length;
  let m = 1;
  while (m < 2 * n - 1) m *= 2;
  const sign = inverse ? 1 : -1;
  const chirpRe = new Float64Array(n);
  const chirpIm = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    // k² mod 2n keeps the angle small and exact for large k.
    const angle = (sign * Math.PI * ((k * k) % (2 * n))) / n;
    chirpRe[k] = Math.cos(angle);
    chirpIm[k] = Math.sin(angle);
  }
  const ar = new Float64Array(m);
  const ai = new Float64Array(m);
  const br = new Float64Array(m);
  const bi = new Float64Array(m);
  for (let k = 0; k < n; k++) {
    ar[k] = re[k] * chirpRe[k] - im[k] * chirpIm[k];
    ai[k] = re[k] * chirpIm[k] + im[k] * chirpRe[k];
  }
  br[0] = chirpRe[0];
  bi[0] = -chirpIm[0];
  for (let k = 1; k < n; k++) {
    br[k] = br[m - k] = chirpRe[k];
    bi[k] = bi[m - k] = -chirpIm[k];
  }
  radix2(ar, ai, false);
  radix2(br, bi, false);
  for (let k = 0; k < m; k++) {
    const r = ar[k] * br[k] - ai[k] * bi[k];
    ai[k] = ar[k] * bi[k] + ai[k] * br[k];
    ar[k] = r;
  }
  radix2(ar, ai, true);
  for (let k = 0; k < n; k++) {
    const r = ar[k] / m;
    const i = ai[k] / m;
    re[k] = r * chirpRe[k] - i * chirpIm[k];
    im[k] = r * chirpIm[k] + i * chirpRe[k];
  }
}

/**
 * The causal convolution y_t = Σ_{j ≤ t} k_j u_{t−j} for t < u.length, by FFTs of a power-of-two length
 * ≥ u.length + k.length − 1 (no wrap-around), as S4 layers apply their kernels.
 */
export function fftConvolve(u: ArrayLike<number>, k: ArrayLike<number>): Float64Array {
  const length = u.length;
  if (length === 0 || k.length === 0) return new Float64Array(length);
  let size = 1;
  while (size < length + k.length - 1) size *= 2;
  const ur = new Float64Array(size);
  const kr = new Float64Array(size);
  for (let t = 0; t < length; t++) ur[t] = u[t];
  for (let t = 0; t < k.length; t++) kr[t] = k[t];
  const uf = fft({ re: ur, im: new Float64Array(size) });
  const kf = fft({ re: kr, im: new Float64Array(size) });
  const product = { re: new Float64Array(size), im: new Float64Array(size) };
  for (let f = 0; f < size; f++) {
    product.re[f] = uf.re[f] * kf.re[f] - uf.im[f] * kf.im[f];
    product.im[f] = uf.re[f] * kf.im[f] + uf.im[f] * kf.re[f];
  }
  return fft(product, true).re.slice(0, length);
}
