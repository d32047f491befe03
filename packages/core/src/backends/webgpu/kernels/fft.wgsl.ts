import { PARAMS, threadEntry } from './common';

// 2π·phase/n mapped to [-π, π), where GPU sin/cos are most accurate.
const ANGLE = `fn angle(phase: u32, n: u32) -> f32 {
  return 6.283185307179586 * (f32(phase) - select(0.0, f32(n), 2u * phase >= n)) / f32(n);
}`;

/**
 * Direct DFTs, one invocation per output value, O(n) each. Angles use (k·t mod n) kept as an integer
 * so they stay exact for long signals. Fine for the lengths S4 uses on small inputs; a radix-2
 * kernel would be the next step for long ones.
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
