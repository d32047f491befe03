import { sizeOf } from '../../shape';
import { register } from './kernels';

/**
 * In-place complex DFT of one length in float64: X_k = Σ_t x_t·e^(∓2πi·kt/n) (− forward, + inverse,
 * no 1/n). Radix-2 for powers of two; Bluestein's chirp-z (a power-of-two circular convolution) else.
 */
class ComplexFft {
  private readonly cos: Float64Array;
  private readonly sin: Float64Array;
  private readonly bitReverse: Uint32Array;
  private readonly bluestein: { inner: ComplexFft; chirpRe: Float64Array; chirpIm: Float64Array; kernelRe: Float64Array; kernelIm: Float64Array; re: Float64Array; im: Float64Array } | null = null;

  constructor(readonly n: number) {
    const pow2 = (n & (n - 1)) === 0;
    const tableSize = pow2 ? n : 0;
    this.cos = new Float64Array(tableSize >> 1);
    this.sin = new Float64Array(tableSize >> 1);
    for (let k = 0; k < tableSize >> 1; k++) {
      this.cos[k] = Math.cos((2 * Math.PI * k) / n);
      this.sin[k] = Math.sin((2 * Math.PI * k) / n);
    }
    this.bitReverse = new Uint32Array(tableSize);
    const bits = Math.log2(tableSize || 1);
    for (let i = 0; i < tableSize; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      this.bitReverse[i] = r;
    }
    if (!pow2) this.bluestein = this.planBluestein();
  }

  // 2kt = k² + t² − (k−t)², so X_k = c_k · Σ_t (x_t c_t)·conj(c_{k−t}) with the chirp c_j = e^(−iπj²/n).
  private planBluestein() {
    const n = this.n;
    let m = 1;
    while (m < 2 * n - 1) m *= 2;
    const inner = new ComplexFft(m);
    const chirpRe = new Float64Array(n);
    const chirpIm = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      // j² mod 2n keeps the angle small, so it stays exact for large j.
      const angle = (Math.PI * ((j * j) % (2 * n))) / n;
      chirpRe[j] = Math.cos(angle);
      chirpIm[j] = -Math.sin(angle);
    }
    const kernelRe = new Float64Array(m);
    const kernelIm = new Float64Array(m);
    for (let j = 0; j < n; j++) {
      kernelRe[j] = chirpRe[j];
      kernelIm[j] = -chirpIm[j];
      if (j > 0) {
        kernelRe[m - j] = chirpRe[j];
        kernelIm[m - j] = -chirpIm[j];
      }
    }
    inner.transform(kernelRe, kernelIm, false);
    return { inner, chirpRe, chirpIm, kernelRe, kernelIm, re: new Float64Array(m), im: new Float64Array(m) };
  }

  transform(re: Float64Array, im: Float64Array, inverse: boolean): void {
    if (this.bluestein) this.transformBluestein(re, im, inverse);
    else this.transformRadix2(re, im, inverse);
  }

  private transformRadix2(re: Float64Array, im: Float64Array, inverse: boolean): void {
    const n = this.n;
    for (let i = 0; i < n; i++) {
      const j = this.bitReverse[i];
      if (j > i) {
        [re[i], re[j]] = [re[j], re[i]];
        [im[i], im[j]] = [im[j], im[i]];
      }
    }
    const sign = inverse ? 1 : -1;
    for (let size = 2; size <= n; size *= 2) {
      const half = size >> 1;
      const step = n / size;
      for (let start = 0; start < n; start += size) {
        for (let k = 0; k < half; k++) {
          const wr = this.cos[k * step];
          const wi = sign * this.sin[k * step];
          const i = start + k;
          const j = i + half;
          const tr = re[j] * wr - im[j] * wi;
          const ti = re[j] * wi + im[j] * wr;
          re[j] = re[i] - tr;
          im[j] = im[i] - ti;
          re[i] += tr;
          im[i] += ti;
        }
      }
    }
  }

  private transformBluestein(re: Float64Array, im: Float64Array, inverse: boolean): void {
    const { inner, chirpRe, chirpIm, kernelRe, kernelIm, re: aRe, im: aIm } = this.bluestein!;
    const n = this.n;
    const m = inner.n;
    // The inverse is the forward transform of the conjugate, conjugated.
    const s = inverse ? -1 : 1;
    aRe.fill(0);
    aIm.fill(0);
    for (let t = 0; t < n; t++) {
      const xr = re[t];
      const xi = s * im[t];
      aRe[t] = xr * chirpRe[t] - xi * chirpIm[t];
      aIm[t] = xr * chirpIm[t] + xi * chirpRe[t];
    }
    inner.transform(aRe, aIm, false);
    for (let k = 0; k < m; k++) {
      const r = aRe[k] * kernelRe[k] - aIm[k] * kernelIm[k];
      aIm[k] = aRe[k] * kernelIm[k] + aIm[k] * kernelRe[k];
      aRe[k] = r;
    }
    inner.transform(aRe, aIm, true);
    for (let k = 0; k < n; k++) {
      const cr = aRe[k] / m;
      const ci = aIm[k] / m;
      re[k] = cr * chirpRe[k] - ci * chirpIm[k];
      im[k] = s * (cr * chirpIm[k] + ci * chirpRe[k]);
    }
  }
}

const plans = new Map<number, ComplexFft>();

function planFor(n: number): ComplexFft {
  let plan = plans.get(n);
  if (!plan) {
    if (plans.size > 32) plans.clear();
    plans.set(n, (plan = new ComplexFft(n)));
  }
  return plan;
}

/**
 * rfft: x [..., L] → [..., n/2+1, 2] (re, im) of x cut or zero-padded to n.
 * irfft: X [..., m, 2] → [..., n] real, numpy norm 'backward' (1/n on the inverse); uses the first n/2+1
 * bins (zeros for missing ones) and ignores the imaginary parts of bin 0 and, for even n, bin n/2.
 */
export function registerFftKernels(): void {
  register('rfft', ([a], attrs, be) => {
    const n = attrs.n as number;
    const x = be.values(a);
    const L = a.shape[a.shape.length - 1];
    const rows = sizeOf(a.shape.slice(0, -1));
    const bins = Math.floor(n / 2) + 1;
    const plan = planFor(n);
    const re = new Float64Array(n);
    const im = new Float64Array(n);
    const out = new Float32Array(rows * bins * 2);
    const copied = Math.min(L, n);
    for (let r = 0; r < rows; r++) {
      re.fill(0);
      im.fill(0);
      for (let t = 0; t < copied; t++) re[t] = x[r * L + t];
      plan.transform(re, im, false);
      im[0] = 0;
      if (n % 2 === 0) im[n / 2] = 0;
      for (let k = 0; k < bins; k++) {
        out[(r * bins + k) * 2] = re[k];
        out[(r * bins + k) * 2 + 1] = im[k];
      }
    }
    return be.output([...a.shape.slice(0, -1), bins, 2], 'float32', out);
  });

  register('irfft', ([a], attrs, be) => {
    const n = attrs.n as number;
    const X = be.values(a);
    const m = a.shape[a.shape.length - 2];
    const rows = sizeOf(a.shape.slice(0, -2));
    const used = Math.min(m, Math.floor(n / 2) + 1);
    const plan = planFor(n);
    const re = new Float64Array(n);
    const im = new Float64Array(n);
    const out = new Float32Array(rows * n);
    for (let r = 0; r < rows; r++) {
      re.fill(0);
      im.fill(0);
      for (let k = 0; k < used; k++) {
        re[k] = X[(r * m + k) * 2];
        im[k] = X[(r * m + k) * 2 + 1];
      }
      im[0] = 0;
      if (n % 2 === 0) im[n / 2] = 0;
      // Hermitian symmetry fills the upper half.
      for (let k = 1; k < n - k; k++) {
        re[n - k] = re[k];
        im[n - k] = -im[k];
      }
      plan.transform(re, im, true);
      for (let t = 0; t < n; t++) out[r * n + t] = re[t] / n;
    }
    return be.output([...a.shape.slice(0, -2), n], 'float32', out);
  });
}
