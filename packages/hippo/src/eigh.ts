/**
 * Eigen-decomposition of a complex Hermitian matrix in float64:
 *   1. Householder reflections reduce H to a Hermitian tridiagonal T = Q* H Q (Q unitary);
 *   2. a diagonal unitary D rotates T's off-diagonal to real non-negative numbers, T = D T_r D*;
 *   3. the implicit QL algorithm with Wilkinson-type shifts diagonalizes the real symmetric T_r,
 *      applying each (real) Givens rotation to the complex columns of Z = Q·D.
 * The columns of Z·U are the eigenvectors; they come back orthonormal to rounding error.
 */
import type { ComplexArray } from './complex';
import { HippoError, checkLength, checkSize } from './errors';

/** Eigenvalues (ascending) and eigenvectors of a Hermitian matrix. */
export interface HermitianEigen {
  /** The n real eigenvalues, ascending. */
  values: Float64Array;
  /** Row-major n×n; column k is the unit eigenvector of `values[k]`. Each column is unique only up to a phase. */
  vectors: ComplexArray;
}

const EPS = 2 ** -52;
const MAX_QL_ITERATIONS = 60;

/**
 * Eigenvalues and eigenvectors of the n×n Hermitian matrix `h` (row-major, complex).
 * Like LAPACK with UPLO='L', only the lower triangle is read; the imaginary parts of the diagonal are ignored.
 */
export function eigHermitian(h: ComplexArray, n: number): HermitianEigen {
  checkSize('eigHermitian', 'n', n);
  checkLength('eigHermitian', 'h.re', h.re, n * n);
  checkLength('eigHermitian', 'h.im', h.im, n * n);

  // Full Hermitian copy built from the lower triangle.
  const ar = new Float64Array(n * n);
  const ai = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    ar[i * n + i] = h.re[i * n + i];
    for (let j = 0; j < i; j++) {
      const re = h.re[i * n + j];
      const im = h.im[i * n + j];
      if (!Number.isFinite(re) || !Number.isFinite(im)) {
        throw new HippoError('VALUE', `eigHermitian: entry (${i}, ${j}) is not finite`);
      }
      ar[i * n + j] = re;
      ai[i * n + j] = im;
      ar[j * n + i] = re;
      ai[j * n + i] = -im;
    }
  }
  const zr = new Float64Array(n * n);
  const zi = new Float64Array(n * n);
  for (let i = 0; i < n; i++) zr[i * n + i] = 1;

  householderTridiagonalize(ar, ai, zr, zi, n);

  // T's diagonal is real; its sub-diagonal e_k = T[k+1,k] is complex. Choose phases δ with
  // δ_{k+1} = δ_k·e_k/|e_k| so that D* T D has the real sub-diagonal |e_k|, and fold D into Z.
  const diag = new Float64Array(n);
  const off = new Float64Array(n); // off[k] couples k and k+1; off[n-1] stays 0
  let phaseRe = 1;
  let phaseIm = 0;
  for (let k = 0; k < n; k++) {
    diag[k] = ar[k * n + k];
    if (k > 0) {
      const er = ar[k * n + k - 1];
      const ei = ai[k * n + k - 1];
      const mag = Math.hypot(er, ei);
      off[k - 1] = mag;
      if (mag > 0) {
        const ur = er / mag;
        const ui = ei / mag;
        const nextRe = phaseRe * ur - phaseIm * ui;
        phaseIm = phaseRe * ui + phaseIm * ur;
        phaseRe = nextRe;
      }
    }
    for (let row = 0; row < n; row++) {
      const idx = row * n + k;
      const re = zr[idx];
      const im = zi[idx];
      zr[idx] = re * phaseRe - im * phaseIm;
      zi[idx] = re * phaseIm + im * phaseRe;
    }
  }

  tridiagonalQL(diag, off, zr, zi, n);
  return sortAscending(diag, zr, zi, n);
}

/**
 * In place: A ← Q* A Q tridiagonal, Z ← Z·Q. Reflection k maps column k below the diagonal onto its first
 * entry: P = I − β v v*, v = x − α e₁ with α = −(x₀/|x₀|)·‖x‖, so that v*x is real and P x = α e₁.
 */
function householderTridiagonalize(ar: Float64Array, ai: Float64Array, zr: Float64Array, zi: Float64Array, n: number) {
  const vr = new Float64Array(n);
  const vi = new Float64Array(n);
  const pr = new Float64Array(n);
  const pi = new Float64Array(n);
  for (let k = 0; k < n - 2; k++) {
    const start = k + 1;
    let tail = 0; // squared norm of the entries that must vanish
    for (let i = start + 1; i < n; i++) tail += ar[i * n + k] ** 2 + ai[i * n + k] ** 2;
    if (tail === 0) continue;
    const x0r = ar[start * n + k];
    const x0i = ai[start * n + k];
    const x0abs = Math.hypot(x0r, x0i);
    const norm = Math.sqrt(tail + x0abs * x0abs);
    const phr = x0abs > 0 ? x0r / x0abs : 1;
    const phi = x0abs > 0 ? x0i / x0abs : 0;
    const alphaRe = -phr * norm;
    const alphaIm = -phi * norm;

    for (let i = start; i < n; i++) {
      vr[i] = ar[i * n + k];
      vi[i] = ai[i * n + k];
    }
    vr[start] -= alphaRe;
    vi[start] -= alphaIm;
    let vnorm2 = 0;
    for (let i = start; i < n; i++) vnorm2 += vr[i] * vr[i] + vi[i] * vi[i];
    const beta = 2 / vnorm2;

    // Trailing block: A ← A − v w* − w v*, with p = β A v and w = p − (β/2)(v*p) v.
    let vp = 0; // v*p is real because A is Hermitian
    for (let i = start; i < n; i++) {
      let sr = 0;
      let si = 0;
      for (let j = start; j < n; j++) {
        const a = ar[i * n + j];
        const b = ai[i * n + j];
        sr += a * vr[j] - b * vi[j];
        si += a * vi[j] + b * vr[j];
      }
      pr[i] = beta * sr;
      pi[i] = beta * si;
      vp += vr[i] * pr[i] + vi[i] * pi[i];
    }
    const half = (beta / 2) * vp;
    for (let i = start; i < n; i++) {
      pr[i] -= half * vr[i];
      pi[i] -= half * vi[i];
    }
    for (let i = start; i < n; i++) {
      for (let j = start; j < n; j++) {
        // (v w*)_ij + (w v*)_ij
        const re = vr[i] * pr[j] + vi[i] * pi[j] + pr[i] * vr[j] + pi[i] * vi[j];
        const im = vi[i] * pr[j] - vr[i] * pi[j] + pi[i] * vr[j] - pr[i] * vi[j];
        ar[i * n + j] -= re;
        ai[i * n + j] -= im;
      }
    }
    // Column k and row k become α e₁ and its conjugate.
    for (let i = start; i < n; i++) {
      const re = i === start ? alphaRe : 0;
      const im = i === start ? alphaIm : 0;
      ar[i * n + k] = re;
      ai[i * n + k] = im;
      ar[k * n + i] = re;
      ai[k * n + i] = -im;
    }

    // Z ← Z − β (Z v) v*
    for (let row = 0; row < n; row++) {
      let sr = 0;
      let si = 0;
      for (let j = start; j < n; j++) {
        const a = zr[row * n + j];
        const b = zi[row * n + j];
        sr += a * vr[j] - b * vi[j];
        si += a * vi[j] + b * vr[j];
      }
      sr *= beta;
      si *= beta;
      for (let j = start; j < n; j++) {
        zr[row * n + j] -= sr * vr[j] + si * vi[j];
        zi[row * n + j] -= si * vr[j] - sr * vi[j];
      }
    }
  }
}

/**
 * Implicit QL with shifts on the real symmetric tridiagonal (diag, off), accumulating the rotations into the
 * columns of the complex matrix Z. On return `diag` holds the eigenvalues (unsorted).
 */
function tridiagonalQL(diag: Float64Array, off: Float64Array, zr: Float64Array, zi: Float64Array, n: number) {
  let scale = 0;
  for (let k = 0; k < n; k++) scale = Math.max(scale, Math.abs(diag[k]) + Math.abs(off[k]));
  const floor = EPS * EPS * scale;

  for (let l = 0; l < n; l++) {
    for (let iteration = 0; ; iteration++) {
      // Find the first negligible off-diagonal at or after l: the block l..m is unreduced.
      let m = l;
      while (m < n - 1) {
        const dd = Math.abs(diag[m]) + Math.abs(diag[m + 1]);
        if (Math.abs(off[m]) <= EPS * dd || Math.abs(off[m]) <= floor) break;
        m++;
      }
      if (m === l) break;
      if (iteration === MAX_QL_ITERATIONS) {
        throw new HippoError('NUMERIC', `eigHermitian: QL did not converge for eigenvalue ${l} in ${MAX_QL_ITERATIONS} iterations`);
      }
      // Shift from the leading 2×2 block's eigenvalue closer to diag[l].
      let g = (diag[l + 1] - diag[l]) / (2 * off[l]);
      let r = Math.hypot(g, 1);
      g = diag[m] - diag[l] + off[l] / (g + (g >= 0 ? r : -r));
      let s = 1;
      let c = 1;
      let p = 0;
      let deflated = false;
      for (let i = m - 1; i >= l; i--) {
        const f = s * off[i];
        const b = c * off[i];
        r = Math.hypot(f, g);
        off[i + 1] = r;
        if (r === 0) {
          // Exact underflow: the block splits here; retry from l.
          diag[i + 1] -= p;
          off[m] = 0;
          deflated = true;
          break;
        }
        s = f / r;
        c = g / r;
        g = diag[i + 1] - p;
        r = (diag[i] - g) * s + 2 * c * b;
        p = s * r;
        diag[i + 1] = g + p;
        g = c * r - b;
        for (let row = 0; row < n; row++) {
          const a = row * n + i;
          const bIdx = a + 1;
          const fr = zr[bIdx];
          const fi = zi[bIdx];
          zr[bIdx] = s * zr[a] + c * fr;
          zi[bIdx] = s * zi[a] + c * fi;
          zr[a] = c * zr[a] - s * fr;
          zi[a] = c * zi[a] - s * fi;
        }
      }
      if (deflated) continue;
      diag[l] -= p;
      off[l] = g;
      off[m] = 0;
    }
  }
}

function sortAscending(values: Float64Array, zr: Float64Array, zi: Float64Array, n: number): HermitianEigen {
  const order = Array.from({ length: n }, (_, k) => k).sort((a, b) => values[a] - values[b]);
  const sorted = new Float64Array(n);
  const re = new Float64Array(n * n);
  const im = new Float64Array(n * n);
  order.forEach((from, to) => {
    sorted[to] = values[from];
    for (let row = 0; row < n; row++) {
      re[row * n + to] = zr[row * n + from];
      im[row * n + to] = zi[row * n + from];
    }
  });
  return { values: sorted, vectors: { re, im } };
}
