/**
 * An LTI (S4/S4D) mixer with the shape of the Mamba mixer, for the Mamba paper's S6-vs-S4 comparisons:
 *   in_proj → x (and z);  x → causal depthwise conv → SiLU → per-channel SSM convolution + D skip (instead of the
 *   selective scan);  × SiLU(z) when gated  → out_proj.
 * The SSM's Δ, A, B, C do not depend on the input: the kernel is computed once per sequence length and applied
 * by FFT. Parameter names follow the Mamba mixer (`in_proj.weight`, `conv1d.weight`, `conv1d.bias`, `D`,
 * `out_proj.weight`), with the SSM's under `kernel.` (state-spaces/s4's names).
 */
import {
  add, Conv1d, conv1dStep, dispose, keep, Linear, Module, mul, pad, reshape, ShapeError, shapeStr, silu, slice, split, transpose,
  ValueError, zeros, ones, type Parameter, type Tensor,
} from '@ssmjs/core';
import type { S4DKind } from '@ssmjs/hippo';
import type { Complex } from './complex';
import { fftConv } from './fftconv';
import type { Discretization } from './kernels';
import { generatorOf, S4DKernel, S4Kernel, type SsmKernel } from './ssm';

export interface LtiMixerOptions {
  dModel: number;
  /** SSM state size N per channel (N/2 complex modes); default 64 (the S4 repository's). */
  dState?: number;
  /** dInner = expand·dModel; default 2 as Mamba. */
  expand?: number;
  /** Width of the causal depthwise convolution; default 4 as Mamba. */
  dConv?: number;
  /** 's4d' (diagonal, default) or 's4' (DPLR, needs lMax). */
  kernel?: 's4d' | 's4';
  /** Multiply by SiLU(z) before out_proj (Mamba's gate); default true. Without it in_proj makes x only. */
  gated?: boolean;
  /** Longest sequence for kernel 's4' (the length its C̃ refers to). */
  lMax?: number;
  /** S4D only: A's initialization (default 'lin') and discretization (default 'zoh'). */
  init?: S4DKind;
  method?: Discretization;
  dtMin?: number;
  dtMax?: number;
  /** Biases of in_proj and out_proj (default false, as Mamba); conv1d's bias (default true). */
  bias?: boolean;
  convBias?: boolean;
  seed?: number;
}

/** A mixer's decoding state: the conv input's last dConv steps and the SSM state. Free it with `dispose()`. */
export class LtiMixerState {
  constructor(
    public conv: Tensor,
    public ssm: Complex,
  ) {
    keep(conv);
    keep(ssm.re);
    keep(ssm.im);
  }

  /** Takes ownership of the next tensors and frees the previous ones. */
  advance(conv: Tensor, ssm: Complex): void {
    const old = [this.conv, this.ssm.re, this.ssm.im];
    this.conv = keep(conv);
    this.ssm = { re: keep(ssm.re), im: keep(ssm.im) };
    dispose(old);
  }

  dispose(): void {
    dispose([this.conv, this.ssm.re, this.ssm.im]);
  }
}

export class LtiMixer extends Module {
  readonly dModel: number;
  readonly dInner: number;
  readonly dState: number;
  readonly dConv: number;
  readonly gated: boolean;
  readonly kernelKind: 's4d' | 's4';
  readonly inProj: Linear;
  readonly conv1d: Conv1d;
  readonly ssm: SsmKernel;
  readonly D: Parameter;
  readonly outProj: Linear;

  constructor(options: LtiMixerOptions) {
    super();
    const { dModel, expand = 2, dState = 64, dConv = 4, gated = true, kernel = 's4d', bias = false, convBias = true } = options;
    if (!Number.isInteger(dModel) || dModel < 1) throw new ValueError('LtiMixer', `dModel must be a positive integer, got ${dModel}`);
    const dInner = expand * dModel;
    if (!Number.isInteger(dInner) || dInner < 1) throw new ValueError('LtiMixer', `expand·dModel must be a positive integer, got ${dInner}`);
    if (kernel !== 's4d' && kernel !== 's4') throw new ValueError('LtiMixer', `kernel must be 's4d' or 's4', got '${kernel as string}'`);
    this.dModel = dModel;
    this.dInner = dInner;
    this.dState = dState;
    this.dConv = dConv;
    this.gated = gated;
    this.kernelKind = kernel;
    const generator = generatorOf({ seed: options.seed });
    this.inProj = this.registerModule('in_proj', new Linear(dModel, (gated ? 2 : 1) * dInner, { bias, generator }));
    this.conv1d = this.registerModule('conv1d', new Conv1d(dInner, dConv, { bias: convBias, generator }));
    const ssmOptions = { dtMin: options.dtMin, dtMax: options.dtMax, generator };
    this.ssm = this.registerModule(
      'kernel',
      kernel === 's4d'
        ? new S4DKernel(dInner, dState, { ...ssmOptions, init: options.init, method: options.method })
        : new S4Kernel(dInner, dState, { ...ssmOptions, lMax: options.lMax as number }),
    );
    this.D = this.registerParameter('D', ones([dInner]));
    this.outProj = this.registerModule('out_proj', new Linear(dInner, dModel, { bias, generator }));
  }

  /**
   * x [batch, L, dModel] → [batch, L, dModel]. `mask` [batch, L] (1 = token, 0 = left padding) zeroes the
   * conv's input and output at padded positions, as the Mamba mixer does: the SSM then sees zeros there and its
   * state stays zero, so a left-padded sequence gives the results of the unpadded one at its own positions.
   */
  forward(x: Tensor, options: { mask?: Tensor } = {}): Tensor {
    return this.run(x, false, options.mask).y;
  }

  /**
   * The parallel path over a prompt x [batch, L, dModel], plus the state that `step` continues from
   * (the conv input's last dConv steps and the SSM state after the prompt).
   */
  prefill(x: Tensor, options: { mask?: Tensor } = {}): { y: Tensor; state: LtiMixerState } {
    const { y, conv, ssm } = this.run(x, true, options.mask);
    return { y, state: new LtiMixerState(conv!, ssm!) };
  }

  private run(x: Tensor, captureState: boolean, mask?: Tensor): { y: Tensor; conv?: Tensor; ssm?: Complex } {
    if (x.rank !== 3 || x.shape[2] !== this.dModel) {
      throw new ShapeError('LtiMixer', `input must be [batch, L, ${this.dModel}], got ${shapeStr(x.shape)}`);
    }
    const [batch, L] = x.shape;
    if (mask && !(mask.size === batch * L && (mask.rank === 2 || (mask.rank === 3 && mask.shape[1] === 1)) && mask.shape[0] === batch)) {
      throw new ShapeError('LtiMixer', `mask must be [batch, L] = [${batch}, ${L}], got ${shapeStr(mask.shape)}`);
    }
    const positions = mask ? reshape(mask, [batch, 1, L]) : null;
    const projected = transpose(this.inProj.forward(x), [0, 2, 1]); // [batch, (2·)dInner, L]
    let [u, gate] = this.gated ? split(projected, [this.dInner, this.dInner], 1) : [projected, undefined];
    if (positions) u = mul(u, positions);
    let xc = silu(this.conv1d.forward(u));
    if (positions) xc = mul(xc, positions);
    let y = add(fftConv(xc, this.ssm.kernel(L)), mul(xc, reshape(this.D.value, [this.dInner, 1])));
    if (gate) y = mul(y, silu(gate));
    const out = this.outProj.forward(transpose(y, [0, 2, 1]));
    if (!captureState) return { y: out };
    // The conv window holds the last dConv inputs, zeros before the sequence start.
    const conv = L >= this.dConv ? slice(u, [0, 0, L - this.dConv], [batch, this.dInner, this.dConv]) : pad(u, [[0, 0], [0, 0], [this.dConv - L, 0]]);
    return { y: out, conv, ssm: this.ssm.finalState(xc) };
  }

  /** Sets up the step's constants ahead of time (needed for the S4 kernel on backends without synchronous reads, webgpu). */
  prepareStep(): Promise<void> {
    return this.ssm.prepareStep();
  }

  /** A zero decoding state for `batch` sequences. */
  initialState(batch: number): LtiMixerState {
    return new LtiMixerState(zeros([batch, this.dInner, this.dConv]), this.ssm.initialState(batch));
  }

  /** One token: x [batch, dModel] → y [batch, dModel], advancing `state`. For inference. */
  step(x: Tensor, state: LtiMixerState): Tensor {
    if (x.rank !== 2 || x.shape[1] !== this.dModel) {
      throw new ShapeError('LtiMixer.step', `x must be [batch, ${this.dModel}], got ${shapeStr(x.shape)}`);
    }
    const [batch] = x.shape;
    if (state.conv.shape[0] !== batch) throw new ShapeError('LtiMixer.step', `x ${shapeStr(x.shape)} and the state (batch ${state.conv.shape[0]}) differ in batch`);
    const projected = this.inProj.forward(x); // [batch, (2·)dInner]
    const [u, gate] = this.gated ? split(projected, [this.dInner, this.dInner], 1) : [projected, undefined];
    // The conv window moves on by u; the causal conv is then one dot product per channel (one kernel, with SiLU).
    const weight = reshape(this.conv1d.weight.value, [this.dInner, this.dConv]);
    const { y: xc, window } = conv1dStep(state.conv, u, weight, this.conv1d.bias?.value, { silu: true });
    const { y: ssmOut, state: next } = this.ssm.step(xc, state.ssm);
    state.advance(window, next);
    let y = add(ssmOut, mul(xc, this.D.value));
    if (gate) y = mul(y, silu(gate));
    return this.outProj.forward(y);
  }
}
