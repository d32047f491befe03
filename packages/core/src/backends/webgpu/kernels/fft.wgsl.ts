import { PARAMS, threadEntry } from './common';

// 2π·phase/n mapped to [-π, π), where GPU sin/cos are most accurate.
const ANGLE = `fn angle(phase: u32, n: u32) -> f32 {
  return 6.283185307179586 * (f32(phase) - select(0.0, f32(n), 2u * phase >= n)) / f32(n);
}`;

/**
 * Direct DFTs for lengths that are not powers of two (those take the radix-2 FFT below): one
 * invocation per output value, O(n) each. Angles use (k·t mod n) kept as an integer so they stay
 * exact for long signals.
 *
 * rfft: x [rows, L] → [rows, n/2+1, 2] of x cut or zero-padded to n. Params: [rows·bins, L, n, bins].
 */
export function rfftSource(): string {
  return `${PARAMS}
@group(0) @binding(1) var<storage, read> xs: array<f32>;
@group(0) @binding(2) var<storage, read_write> ys: array<vec2<f32>>;
${ANGLE}
${threadEntry(64)}
  if (i >= p[0]) { return; }
  let L = p[1];
  let n = p[2];
  let bins = p[3];
  let k = i % bins;
  let base = (i / bins) * L;
  let used = min(L, n);
  var re = 0.0;
  var im = 0.0;
  var phase = 0u;
  for (var t = 0u; t < used; t++) {
    let a = angle(phase, n);
    let v = xs[base + t];
    re += v * cos(a);
    im -= v * sin(a);
    phase = (phase + k) % n;
  }
  // Bin 0 and (even n) bin n/2 are real.
  if (k == 0u || 2u * k == n) { im = 0.0; }
  ys[i] = vec2<f32>(re, im);
}`;
}

/**
 * irfft: X [rows, m, 2] → [rows, n], numpy norm 'backward'. Uses the first n/2+1 bins (missing ones are
 * zero) and ignores the imaginary parts of bin 0 and, for even n, bin n/2:
 * x[t] = (X₀ + 2 Σ_{0<k<n/2} Re(X_k e^{2πikt/n}) + [n even] X_{n/2}(−1)^t) / n.
 * Params: [rows·n, m, n].
 */
export function irfftSource(): string {
  return `${PARAMS}
@group(0) @binding(1) var<storage, read> xs: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read_write> ys: array<f32>;
${ANGLE}
${threadEntry(64)}
  if (i >= p[0]) { return; }
  let m = p[1];
  let n = p[2];
  let t = i % n;
  let base = (i / n) * m;
  let used = min(m, n / 2u + 1u);
  var acc = 0.0;
  var phase = 0u;
  for (var k = 0u; k < used; k++) {
    let v = xs[base + k];
    if (k == 0u) {
      acc += v.x;
    } else if (2u * k == n) {
      acc += select(v.x, -v.x, (t & 1u) == 1u);
    } else {
      let a = angle(phase, n);
      acc += 2.0 * (v.x * cos(a) - v.y * sin(a));
    }
    phase = (phase + t) % n;
  }
  ys[i] = acc / f32(n);
}`;
}

// ---------------------------------------------------------------- power-of-two lengths: radix-2 FFT

/**
 * One radix-2 Stockham pass over rows of n complex values (out of place, natural order after the
 * last pass): butterfly i of a row combines x[i] and x[i + n/2] with the twiddle e^(∓iπk/p),
 * k = i mod p, and writes y[2i − k] and y[2i − k + p]. p = 1, 2, 4, … n/2 over log2(n) passes.
 * Twiddles come from a table of e^(−2πij/n), j < n/2, computed in float64 on the host: GPU sin/cos
 * may be off by 2⁻¹¹, which the passes would compound. Params: [rows·n/2, n, p, inverse].
 */
export function fftPassSource(): string {
  return `${PARAMS}
@group(0) @binding(1) var<storage, read> xs: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read> twiddles: array<vec2<f32>>;
@group(0) @binding(3) var<storage, read_write> ys: array<vec2<f32>>;
${threadEntry(256)}
  if (i >= p[0]) { return; }
  let n = p[1];
  let span = p[2];
  let half = n / 2u;
  let base = (i / half) * n;
  let b = i % half;
  let k = b & (span - 1u);
  var w = twiddles[k * (half / span)];
  if (p[3] != 0u) { w.y = -w.y; }
  let u0 = xs[base + b];
  let v = xs[base + b + half];
  let u1 = vec2<f32>(v.x * w.x - v.y * w.y, v.x * w.y + v.y * w.x);
  let j = base + 2u * b - k;
  ys[j] = u0 + u1;
  ys[j + span] = u0 - u1;
}`;
}

/** Real rows [rows, L] → complex rows [rows, n], cut or zero-padded. Params: [rows·n, L, n]. */
export function rfftPackSource(): string {
  return `${PARAMS}
@group(0) @binding(1) var<storage, read> xs: array<f32>;
@group(0) @binding(2) var<storage, read_write> ys: array<vec2<f32>>;
${threadEntry(256)}
  if (i >= p[0]) { return; }
  let L = p[1];
  let n = p[2];
  let t = i % n;
  var v = 0.0;
  if (t < L) { v = xs[(i / n) * L + t]; }
  ys[i] = vec2<f32>(v, 0.0);
}`;
}

/** The first n/2+1 bins of each transformed row; bins 0 and (even n) n/2 are real. Params: [rows·bins, n, bins]. */
export function rfftUnpackSource(): string {
  return `${PARAMS}
@group(0) @binding(1) var<storage, read> xs: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read_write> ys: array<vec2<f32>>;
${threadEntry(256)}
  if (i >= p[0]) { return; }
  let n = p[1];
  let bins = p[2];
  let k = i % bins;
  var c = xs[(i / bins) * n + k];
  if (k == 0u || 2u * k == n) { c.y = 0.0; }
  ys[i] = c;
}`;
}

/**
 * Half spectra [rows, m] → full Hermitian spectra [rows, n]: bins past n/2 are conjugates of their
 * mirrors, bins the input lacks are zero, imaginary parts of bin 0 and (even n) n/2 are dropped.
 * Params: [rows·n, m, n].
 */
export function irfftPackSource(): string {
  return `${PARAMS}
@group(0) @binding(1) var<storage, read> xs: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read_write> ys: array<vec2<f32>>;
${threadEntry(256)}
  if (i >= p[0]) { return; }
  let m = p[1];
  let n = p[2];
  let k = i % n;
  let used = min(m, n / 2u + 1u);
  let mirrored = 2u * k > n;
  let j = select(k, n - k, mirrored);
  var c = vec2<f32>(0.0);
  if (j < used) { c = xs[(i / n) * m + j]; }
  if (mirrored) { c.y = -c.y; }
  if (k == 0u || 2u * k == n) { c.y = 0.0; }
  ys[i] = c;
}`;
}

/** Real parts / n: the inverse transform's output. Params: [rows·n, n]. */
export function irfftUnpackSource(): string {
  return `${PARAMS}
@group(0) @binding(1) var<storage, read> xs: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read_write> ys: array<f32>;
${threadEntry(256)}
  if (i >= p[0]) { return; }
  ys[i] = xs[i].x / f32(p[1]);
}`;
}
