/**
 * One Mamba block, as functions of its weights: the parallel path over a whole sequence (training,
 * prefill) and the recurrent step over one token (decoding). Both follow transformers' MambaMixer:
 *   in_proj → x, z;  x → causal depthwise conv → SiLU;  x_proj → dt, B, C;  dt_proj (no bias) →
 *   selective scan (Δ = softplus(dt + dt_proj.bias), A = −exp(A_log), D, gate silu(z)) → out_proj.
 * Inside the block, channels sit on axis 1 ([batch, channels, L]): the scan's layout.
 */
import { add, concat, conv1d, conv1dStep, exp, matmul, mul, neg, pad, reshape, rmsNorm, silu, slice, split, transpose, type Tensor } from '@ssmjs/core';
import { selectiveScan, selectiveStateUpdate } from '@ssmjs/selective-scan';
import type { MambaConfig } from './config';

/** The tensors of one block, by role. */
export interface BlockWeights {
  norm: Tensor;
  inProj: Tensor;
  inProjBias?: Tensor;
  /** [dInner, 1, dConv] as stored. */
  conv: Tensor;
  convBias?: Tensor;
  xProj: Tensor;
  dtProj: Tensor;
  dtProjBias: Tensor;
  ALog: Tensor;
  D: Tensor;
  outProj: Tensor;
  outProjBias?: Tensor;
}

/** What the parallel path leaves for decoding: the conv input's last dConv steps and the scan's final state. */
export interface BlockState {
  conv: Tensor;
  ssm: Tensor;
}

/**
 * `hidden` [batch, L, dModel] → hidden + mixer(norm(hidden)). With `captureState`, also the state
 * decoding continues from. `mask` [batch, 1, L] (1 = token, 0 = left padding) zeroes the conv's input and
 * output at padded positions, as transformers does with an attention mask: the conv then sees zeros
 * there, as before a sequence start, and x = 0 leaves the scan's state at zero, so a left-padded
 * sequence gives the same results as the unpadded one. `from` continues a sequence from a decoding state:
 * the conv sees its last inputs before x and the scan starts from its SSM state (chunked evaluation).
 * Without `config.gated`, in_proj makes x only and y is not multiplied by SiLU(z).
 */
export function blockForward(
  config: MambaConfig,
  w: BlockWeights,
  hidden: Tensor,
  captureState = false,
  mask?: Tensor,
  from?: BlockState,
): { hidden: Tensor; state?: BlockState } {
  const [batch, L] = hidden.shape;
  const { dInner, dState, dtRank, dConv } = config;
  const normed = rmsNorm(hidden, w.norm, config.layerNormEpsilon);
  let xz = matmul(normed, w.inProj, { transposeB: true }); // [batch, L, (2·)dInner]
  if (w.inProjBias) xz = add(xz, w.inProjBias);
  const channelsFirst = transpose(xz, [0, 2, 1]); // [batch, (2·)dInner, L]
  const [xIn, z] = config.gated ? split(channelsFirst, [dInner, dInner], 1) : [channelsFirst, undefined];
  let x = xIn;
  if (mask) x = mul(x, mask);
  // Continuing: the previous inputs go in front, and their conv outputs are dropped.
  if (from) x = concat([from.conv, x], 2);

  const convWeight = reshape(w.conv, [dInner, dConv]);
  let xc = silu(conv1d(x, convWeight, w.convBias));
  if (from) xc = slice(xc, [0, 0, dConv], [batch, dInner, L]);
  if (mask) xc = mul(xc, mask);

  const xDbl = matmul(w.xProj, xc); // [batch, dtRank + 2N, L]
  const [dtLow, B, C] = split(xDbl, [dtRank, dState, dState], 1);
  const delta = matmul(w.dtProj, dtLow); // [batch, dInner, L]; its bias goes into the scan
  const A = neg(exp(w.ALog));

  const { y, lastState } = selectiveScan({
    u: xc, delta, A, B, C, D: w.D, z, deltaBias: w.dtProjBias, deltaSoftplus: true, returnLastState: captureState, initialState: from?.ssm,
  });
  // [batch, dInner, L]ᵀ · out_projᵀ = [batch, L, dModel]
  let out = matmul(y, w.outProj, { transposeA: true, transposeB: true });
  if (w.outProjBias) out = add(out, w.outProjBias);
  const next = add(hidden, out);
  if (!captureState) return { hidden: next };

  // The conv state is the last dConv inputs of the conv (zeros before the sequence start).
  const length = x.shape[2];
  const convState = length >= dConv ? slice(x, [0, 0, length - dConv], [batch, dInner, dConv]) : pad(x, [[0, 0], [0, 0], [dConv - length, 0]], 0);
  return { hidden: next, state: { conv: convState, ssm: lastState! } };
}

/**
 * One token through the mixer: `normed` [batch, dModel] (the block's input after its RMSNorm) → the mixer's
 * output, which the caller adds to the residual stream (with the next norm: `addRmsNorm`). Returns the new
 * conv state; the SSM state tensor is updated in place by the scan's step kernel.
 */
export function mixerStep(
  config: MambaConfig,
  w: BlockWeights,
  normed: Tensor,
  state: BlockState,
  /** A = −exp(A_log), which the caller keeps between tokens (`MambaCache.decayRates`). */
  A: Tensor,
): { out: Tensor; conv: Tensor } {
  const { dInner, dState, dtRank, dConv } = config;
  let xz = matmul(normed, w.inProj, { transposeB: true }); // [batch, (2·)dInner]
  if (w.inProjBias) xz = add(xz, w.inProjBias);
  const [x, z] = config.gated ? split(xz, [dInner, dInner], 1) : [xz, undefined];

  // The conv window moves on by x; the conv is then one dot product per channel (one kernel, with SiLU).
  const { y: xc, window: conv } = conv1dStep(state.conv, x, reshape(w.conv, [dInner, dConv]), w.convBias, { silu: true });

  const xDbl = matmul(xc, w.xProj, { transposeB: true }); // [batch, dtRank + 2N]
  const [dtLow, B, C] = split(xDbl, [dtRank, dState, dState], 1);
  const dt = matmul(dtLow, w.dtProj, { transposeB: true }); // [batch, dInner]
  const y = selectiveStateUpdate({
    state: state.ssm, x: xc, dt, A, B, C, D: w.D, z, dtBias: w.dtProjBias, dtSoftplus: true,
  });
  const out = matmul(y, w.outProj, { transposeB: true });
  return { out: w.outProjBias ? add(out, w.outProjBias) : out, conv };
}
