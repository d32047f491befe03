/**
 * The LTI (S4 / S4D) mixers of @ssmjs/s4 inside a Mamba LM: their options from a MambaConfig, their
 * parameter shapes, and the continuation of a sequence from a decoding state through the parallel path
 * (chunked evaluation of long sequences), which LtiMixer itself only does from a zero state.
 */
import { add, arange, concat, matmul, mul, reshape, silu, slice, sub, transpose, type Tensor } from '@ssmjs/core';
import { complex, discretizeDiagonal, fftConv, LtiMixer, S4DKernel, type LtiMixerOptions, type LtiMixerState } from '@ssmjs/s4';
import type { MambaConfig } from './config';

/** The LtiMixer of one layer of an LTI config. */
export function ltiMixerOptions(config: MambaConfig, seed: number): LtiMixerOptions {
  return {
    dModel: config.dModel,
    dState: config.dState,
    expand: config.expand,
    dConv: config.dConv,
    kernel: config.mixer === 's4' ? 's4' : 's4d',
    gated: config.gated,
    lMax: config.lMax ?? undefined,
    bias: config.bias,
    convBias: config.convBias,
    dtMin: config.dtMin,
    dtMax: config.dtMax,
    seed,
  };
}

/** The mixer's parameter names (relative to the mixer) and shapes, read off a throwaway instance. */
export function ltiMixerShapes(config: MambaConfig): Map<string, number[]> {
  const probe = new LtiMixer(ltiMixerOptions(config, 0));
  try {
    return new Map([...probe.namedParameters()].map(([name, p]) => [name, [...p.value.shape]]));
  } finally {
    probe.dispose();
  }
}

/**
 * x [batch, L, dModel] (already normed) → the mixer's output [batch, L, dModel] for the positions that
 * follow `state`, which is advanced to the end of x. The S4D kernel (ZOH) runs as the parallel path: the
 * FFT convolution over x plus what the state carries in, 2·Re Σ_n C_n Ā_n^{t+1} h_n, and the new state
 * Ā^L h + (the state x alone leaves). Other kernels step through x.
 */
export function ltiContinue(mixer: LtiMixer, x: Tensor, state: LtiMixerState): Tensor {
  const kernel = mixer.ssm;
  if (!(kernel instanceof S4DKernel) || kernel.method !== 'zoh') return stepThrough(mixer, x, state);
  const [batch, L] = x.shape;
  const { dInner: H, dConv } = mixer;
  const projected = transpose(mixer.inProj.forward(x), [0, 2, 1]); // [batch, (2·)H, L]
  const u = mixer.gated ? slice(projected, [0, 0, 0], [batch, H, L]) : projected;
  // The conv sees the state's last dConv inputs before x; its first dConv outputs belong to them.
  const withContext = concat([state.conv, u], 2);
  const xc = silu(slice(mixer.conv1d.forward(withContext), [0, 0, dConv], [batch, H, L]));

  const p = kernel.params();
  const { dtA } = discretizeDiagonal({ A: p.A, B: p.B, logDt: p.logDt, method: 'zoh' });
  const n = dtA.re.shape[1];
  const exponents = reshape(arange(1, L + 1), [1, 1, L]);
  const powers = complex.cexp({ re: mul(reshape(dtA.re, [H, n, 1]), exponents), im: mul(reshape(dtA.im, [H, n, 1]), exponents) }); // Ā^{t+1} [H, n, L]
  const weighted = complex.cmul(p.C, state.ssm); // C_n h_n [batch, H, n]
  const wRe = transpose(weighted.re, [1, 0, 2]);
  const wIm = transpose(weighted.im, [1, 0, 2]);
  const carried = mul(sub(matmul(wRe, powers.re), matmul(wIm, powers.im)), 2); // [H, batch, L]
  let y = add(add(fftConv(xc, kernel.kernel(L)), transpose(carried, [1, 0, 2])), mul(xc, reshape(mixer.D.value, [H, 1])));
  if (mixer.gated) y = mul(y, silu(slice(projected, [0, H, 0], [batch, H, L])));
  const out = mixer.outProj.forward(transpose(y, [0, 2, 1]));

  const decayL = complex.cexp(complex.cscale(dtA, L)); // Ā^L [H, n]
  const fromState = complex.cmul(decayL, state.ssm);
  const fromX = kernel.finalState(xc);
  const conv = slice(withContext, [0, 0, L], [batch, H, dConv]);
  state.advance(conv, { re: add(fromState.re, fromX.re), im: add(fromState.im, fromX.im) });
  return out;
}

/** The recurrent path position by position (kernels without a closed form for the carried state). */
function stepThrough(mixer: LtiMixer, x: Tensor, state: LtiMixerState): Tensor {
  const [batch, L, d] = x.shape;
  const rows: Tensor[] = [];
  for (let t = 0; t < L; t++) rows.push(reshape(mixer.step(reshape(slice(x, [0, t, 0], [batch, 1, d]), [batch, d]), state), [batch, 1, d]));
  return concat(rows, 1);
}
