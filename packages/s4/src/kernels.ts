/**
 * Convolution kernels of S4D and S4 on core tensors, differentiable with respect to every parameter.
 * Conventions follow state-spaces/s4 (and @ssmjs/hippo's float64 references): each channel's N/2 complex
 * modes stand with their conjugates for a real system of size N, and K_l = Σ_full C B̄ Ā^l = 2·Re Σ_half.
 */
import {
  add, arange, concat, exp, gather, irfft, matmul, mul, reshape, ShapeError, shapeStr, slice, sub, sum, tensor, transpose, ValueError,
  type Tensor,
} from '@ssmjs/core';
import {
  caddReal, cconj, cexp, cexpm1, cinv, cmatmul, cmul, complexConstant, cscale, csub, toPairs, type Complex,
} from './complex';

export type Discretization = 'zoh' | 'bilinear';

/** Parameters of H diagonal SSMs with N/2 complex modes each. */
export interface DiagonalParams {
  /** Diagonal state matrix, [H, N/2]. */
  A: Complex;
  /** [H, N/2] (or anything that broadcasts to it). */
  B: Complex;
  /** [H, N/2]. */
  C: Complex;
  /** log Δ per channel, [H]. */
  logDt: Tensor;
}

function checkL(op: string, L: number): void {
  if (!Number.isInteger(L) || L < 1) throw new ValueError(op, `L must be a positive integer, got ${L}`);
}

/** [H, n] of A, checked against C and logDt. */
function diagonalShape(op: string, p: { A: Complex; C: Complex; logDt: Tensor }): [number, number] {
  const { A, C, logDt } = p;
  if (A.re.rank !== 2) throw new ShapeError(op, `A must be [H, N/2], got ${shapeStr(A.re.shape)}`);
  const [H, n] = A.re.shape;
  for (const [name, t] of [['A.im', A.im], ['C.re', C.re], ['C.im', C.im]] as const) {
    if (t.rank !== 2 || t.shape[0] !== H || t.shape[1] !== n) {
      throw new ShapeError(op, `${name} must be [${H}, ${n}] like A, got ${shapeStr(t.shape)}`);
    }
  }
  if (logDt.rank !== 1 || logDt.shape[0] !== H) throw new ShapeError(op, `logDt must be [${H}], got ${shapeStr(logDt.shape)}`);
  return [H, n];
}

/**
 * Ā and B̄ of the diagonal system x' = A x + B u at step Δ = exp(logDt):
 * ZOH: Ā = e^{ΔA}, B̄ = B(e^{ΔA} − 1)/A (with e^{ΔA} − 1 free of cancellation for small steps);  bilinear: Ā = (1 + ΔA/2)/(1 − ΔA/2), B̄ = ΔB/(1 − ΔA/2).
 */
export function discretizeDiagonal(p: Omit<DiagonalParams, 'C'> & { method: Discretization }): { dA: Complex; dB: Complex; dtA: Complex } {
  const H = p.A.re.shape[0];
  const dt = reshape(exp(p.logDt), [H, 1]);
  const dtA = cscale(p.A, dt);
  if (p.method === 'zoh') {
    return { dA: cexp(dtA), dB: cmul(p.B, cmul(cexpm1(dtA), cinv(p.A))), dtA };
  }
  if (p.method === 'bilinear') {
    const halfStep = cscale(dtA, 0.5);
    const backward = cinv({ re: sub(1, halfStep.re), im: mul(halfStep.im, -1) }); // 1/(1 − ΔA/2)
    return { dA: cmul(caddReal(halfStep, 1), backward), dB: cscale(cmul(p.B, backward), dt), dtA };
  }
  throw new ValueError('discretizeDiagonal', `method must be 'zoh' or 'bilinear', got '${p.method as string}'`);
}

/**
 * Ā^l for l = 0…L−1 as [H, n, L] by doubling (⌈log₂ L⌉ complex products, no logarithm of Ā needed), where
 * Ā = 1 + δ. The powers are carried as Ā^l − 1, with (1 + a)(1 + b) − 1 = a + b + ab: for small steps Ā is
 * within float32 rounding of 1, and multiplying rounded Ā's would grow a relative error of l·2⁻²⁴.
 */
function powersByDoubling(delta: Complex, L: number): Complex {
  const [H, n] = delta.re.shape;
  const column = (t: Tensor) => reshape(t, [H, n, 1]);
  const times = (a: Complex, b: Complex): Complex => {
    const ab = cmul(a, b);
    return { re: add(add(a.re, b.re), ab.re), im: add(add(a.im, b.im), ab.im) };
  };
  let step: Complex = { re: column(delta.re), im: column(delta.im) }; // Ā^have − 1
  // Ā^0 − 1 = 0, written with δ's own tensors so the constant lives where they do.
  let powers: Complex = { re: mul(step.re, 0), im: mul(step.im, 0) };
  for (let have = 1; have < L; have *= 2) {
    const next = times(powers, step); // Ā^have … Ā^(2·have − 1), minus one
    powers = { re: concat([powers.re, next.re], 2), im: concat([powers.im, next.im], 2) };
    if (2 * have < L) step = times(step, step);
  }
  const size = [H, n, L];
  return { re: add(slice(powers.re, [0, 0, 0], size), 1), im: slice(powers.im, [0, 0, 0], size) };
}

/**
 * Ā^l for l = 0…L−1 as [H, n, L]: e^{l·ΔA} for ZOH (exp, cos and sin, as state-spaces/s4's S4DKernel), by
 * doubling for bilinear.
 */
function vandermonde(dtA: Complex, L: number, method: Discretization): Complex {
  if (method === 'bilinear') {
    // δ = Ā − 1 = ΔA/(1 − ΔA/2), without the cancellation of subtracting 1 from Ā.
    return powersByDoubling(cmul(dtA, cinv({ re: sub(1, mul(dtA.re, 0.5)), im: mul(dtA.im, -0.5) })), L);
  }
  const [H, n] = dtA.re.shape;
  const l = reshape(arange(L), [1, 1, L]);
  return cexp({ re: mul(reshape(dtA.re, [H, n, 1]), l), im: mul(reshape(dtA.im, [H, n, 1]), l) });
}

/**
 * The state [batch, H, N/2] a diagonal SSM reaches from zero after the inputs u [batch, H, L]:
 * x_L = Σ_s Ā^{L−1−s} B̄ u_s (what stepping through u leaves), by one transposed Vandermonde product.
 */
export function s4dFinalState(p: Omit<DiagonalParams, 'C'> & { u: Tensor; method: Discretization }): Complex {
  const { u } = p;
  const H = p.A.re.shape[0];
  if (u.rank !== 3 || u.shape[1] !== H) throw new ShapeError('s4dFinalState', `u must be [batch, ${H}, L], got ${shapeStr(u.shape)}`);
  const L = u.shape[2];
  const { dB, dtA } = discretizeDiagonal(p);
  const powers = vandermonde(dtA, L, p.method); // [H, n, L]
  // Σ_k Ā^k u_{L−1−k}: the inputs reversed in time, as [H, L, batch] columns.
  const reversed = gather(u, tensor(Int32Array.from({ length: L }, (_, k) => L - 1 - k), [L], 'int32'), 2);
  const columns = transpose(reversed, [1, 2, 0]);
  const summed: Complex = { re: matmul(powers.re, columns), im: matmul(powers.im, columns) }; // [H, n, batch]
  const state = { re: transpose(summed.re, [2, 0, 1]), im: transpose(summed.im, [2, 0, 1]) };
  return cmul(state, dB);
}

/**
 * The S4D kernel K [H, L], K_l = 2·Re Σ_n C_n B̄_n Ā_n^l, by a Vandermonde product. ZOH evaluates the powers
 * as e^{l·ΔA} (exp, cos and sin of l·ΔA, as state-spaces/s4's S4DKernel); bilinear builds Ā^l by doubling.
 */
export function s4dKernel(p: DiagonalParams & { L: number; method: Discretization }): Tensor {
  checkL('s4dKernel', p.L);
  const [H, n] = diagonalShape('s4dKernel', p);
  const { L } = p;
  const { dB, dtA } = discretizeDiagonal(p);
  const powers = vandermonde(dtA, L, p.method);
  // Σ_n Re(w_n·Ā_n^l) as one batched product per part: [H, 1, n] × [H, n, L].
  const w = cmul(p.C, dB);
  const row = (t: Tensor) => reshape(t, [H, 1, n]);
  const half = sub(matmul(row(w.re), powers.re), matmul(row(w.im), powers.im));
  return reshape(mul(half, 2), [H, L]);
}

/** Parameters of H DPLR SSMs, A = diag(Λ) − P P* (rank 1), as S4 trains them. */
export interface DplrParams {
  /** Λ, the diagonal part, [H, N/2]. */
  A: Complex;
  /** The low-rank factor, [H, N/2]. */
  P: Complex;
  B: Complex;
  /** C̃ = (I − Ā^L)ᵀ C for the kernel length L (S4's trained C); see hippo's `dplrCTilde`. */
  C: Complex;
  logDt: Tensor;
}

/** For ω_k = e^{−2πik/L}: z_k = 2(1 − ω_k)/(1 + ω_k) and 2/(1 + ω_k), for the bins k = 0…count−1, in float64. */
function rootsOfUnity(L: number, count: number) {
  const zRe = new Float64Array(count);
  const zIm = new Float64Array(count);
  const scaleRe = new Float64Array(count);
  const scaleIm = new Float64Array(count);
  for (let k = 0; k < count; k++) {
    const angle = (-2 * Math.PI * k) / L;
    const [wr, wi] = [Math.cos(angle), Math.sin(angle)];
    const [dr, di] = [1 + wr, wi];
    const m = dr * dr + di * di;
    // z = 2(1 − ω)/(1 + ω) and the bilinear factor 2/(1 + ω)
    zRe[k] = (2 * ((1 - wr) * dr - wi * di)) / m;
    zIm[k] = (2 * (-wi * dr - (1 - wr) * di)) / m;
    scaleRe[k] = (2 * dr) / m;
    scaleIm[k] = (-2 * di) / m;
  }
  return { zRe, zIm, scaleRe, scaleIm };
}

/**
 * The S4 kernel K [H, L] of a rank-1 DPLR SSM with bilinear discretization: the truncated generating
 * function at the L-th roots of unity ω_k (z_k = 2(1 − ω_k)/(1 + ω_k)), whose Cauchy sums
 * r_XY(z) = Σ_full Δ·X_n Y_n/(z − Δλ_n) give, by the Woodbury identity,
 *   K̂(ω) = 2/(1 + ω)·[r_BC − r_BQ·r_PC/(1 + r_PQ)],  Q = conj(P),
 * then K = irfft(K̂, L). At ω = −1 (even L) z is infinite and K̂ = Δ·Re Σ_half C_n B_n.
 */
export function dplrKernel(p: DplrParams & { L: number }): Tensor {
  checkL('dplrKernel', p.L);
  const [H, n] = diagonalShape('dplrKernel', p);
  for (const [name, t] of [['P.re', p.P.re], ['P.im', p.P.im], ['B.re', p.B.re], ['B.im', p.B.im]] as const) {
    if (t.rank !== 2 || t.shape[0] !== H || t.shape[1] !== n) {
      throw new ShapeError('dplrKernel', `${name} must be [${H}, ${n}] like A (rank-1 P), got ${shapeStr(t.shape)}`);
    }
  }
  const { L } = p;
  const bins = Math.floor(L / 2) + 1;
  const nyquist = L % 2 === 0;
  const finite = nyquist ? bins - 1 : bins;
  const dt = reshape(exp(p.logDt), [H, 1]);
  const pieces: Complex[] = [];

  if (finite > 0) {
    const roots = rootsOfUnity(L, finite);
    const z = complexConstant(roots.zRe, roots.zIm, [1, finite, 1]);
    const poles = cscale(p.A, dt);
    const poleRow: Complex = { re: reshape(poles.re, [H, 1, n]), im: reshape(poles.im, [H, 1, n]) };
    // Σ_full v/(z − w) = Σ_half v/(z − w) + conj(Σ_half v/(z̄ − w)): one pass for each half.
    const nearHalf = cinv(csub(z, poleRow)); // [H, finite, n]
    const farHalf = cinv(csub(cconj(z), poleRow));
    // The four numerators Δ·[B·C, B·Q, P·C, P·Q] as the columns of [H, n, 4].
    const Q = cconj(p.P);
    const numerators = [cmul(p.B, p.C), cmul(p.B, Q), cmul(p.P, p.C), cmul(p.P, Q)].map((v) => cscale(v, dt));
    const columns: Complex = {
      re: concat(numerators.map((v) => reshape(v.re, [H, n, 1])), 2),
      im: concat(numerators.map((v) => reshape(v.im, [H, n, 1])), 2),
    };
    const s1 = cmatmul(nearHalf, columns); // [H, finite, 4]
    const s2 = cmatmul(farHalf, columns);
    const r: Complex = { re: add(s1.re, s2.re), im: sub(s1.im, s2.im) };
    const entry = (j: number): Complex => ({
      re: reshape(slice(r.re, [0, 0, j], [H, finite, 1]), [H, finite]),
      im: reshape(slice(r.im, [0, 0, j], [H, finite, 1]), [H, finite]),
    });
    const [rBC, rBQ, rPC, rPQ] = [0, 1, 2, 3].map(entry);
    const woodbury = csub(rBC, cmul(cmul(rBQ, rPC), cinv(caddReal(rPQ, 1))));
    pieces.push(cmul(woodbury, complexConstant(roots.scaleRe, roots.scaleIm, [1, finite])));
  }
  if (nyquist) {
    const cb = cmul(p.C, p.B);
    const re = mul(sum(cb.re, 1, { keepDims: true }), dt); // [H, 1]
    pieces.push({ re, im: mul(re, 0) });
  }
  const spectrum: Complex =
    pieces.length === 1 ? pieces[0] : { re: concat(pieces.map((c) => c.re), 1), im: concat(pieces.map((c) => c.im), 1) };
  return irfft(toPairs(spectrum), L);
}
