import { dispose, exp, keep, neg, zeros, type Tensor } from '@ssmjs/core';
import type { LtiMixerState } from '@ssmjs/s4';
import type { MambaConfig } from './config';

/**
 * The whole memory of a Mamba decoder: per layer, the last dConv inputs of the causal conv
 * [batch, dInner, dConv] and the SSM state [batch, dInner, dState] — or, for an LTI mixer, that mixer's
 * `LtiMixerState` (the same conv window and the complex S4/S4D state). Its size does not depend on how
 * many tokens were seen. The cache owns its tensors: dispose it when done (`using` works too).
 */
export class MambaCache {
  /** Tokens consumed so far. */
  seqLen = 0;

  /** @internal built by the model (`MambaLM.createCache` / `prefill`). */
  constructor(
    readonly batch: number,
    /** @internal */ readonly conv: Tensor[],
    /** @internal */ readonly ssm: Tensor[],
    /** @internal one state per layer for LTI mixers (then `conv` and `ssm` are empty); advanced in place by the mixers */
    readonly lti: LtiMixerState[] = [],
  ) {
    for (const t of [...conv, ...ssm]) keep(t);
  }

  /** An empty cache (zeros): stepping from it equals running the parallel path from the start. */
  static zeros(config: MambaConfig, batch: number): MambaCache {
    const conv = Array.from({ length: config.nLayer }, () => zeros([batch, config.dInner, config.dConv]));
    const ssm = Array.from({ length: config.nLayer }, () => zeros([batch, config.dInner, config.dState]));
    return new MambaCache(batch, conv, ssm);
  }

  /**
   * Per layer, A = −exp(A_log) as the decoding step last computed it, and the A_log tensor it came from:
   * computed once instead of at every token, and again when that tensor is replaced (an optimizer step or a
   * loaded state dict assigns a new one).
   */
  private readonly decays: { from: Tensor; A: Tensor }[] = [];

  /** @internal A layer's A = −exp(A_log), kept between tokens (owned by the cache). */
  decayRates(layer: number, ALog: Tensor): Tensor {
    const held = this.decays[layer];
    if (held?.from === ALog && !held.A.disposed) return held.A;
    held?.A.dispose();
    const A = keep(neg(exp(ALog)));
    this.decays[layer] = { from: ALog, A };
    return A;
  }

  /** @internal Swaps in a layer's new conv state and frees the old one. */
  replaceConv(layer: number, next: Tensor): void {
    const old = this.conv[layer];
    this.conv[layer] = keep(next);
    if (old !== next) old.dispose();
  }

  /** @internal Swaps in a layer's new SSM state and frees the old one. */
  replaceSsm(layer: number, next: Tensor): void {
    const old = this.ssm[layer];
    this.ssm[layer] = keep(next);
    if (old !== next) old.dispose();
  }

  private tensors(): Tensor[] {
    return [...this.conv, ...this.ssm, ...this.lti.flatMap((s) => [s.conv, s.ssm.re, s.ssm.im])];
  }

  /** Bytes held by the states (4 bytes per float). */
  get bytes(): number {
    return this.tensors().reduce((n, t) => n + 4 * t.size, 0);
  }

  get disposed(): boolean {
    return this.tensors().some((t) => t.disposed);
  }

  dispose(): void {
    dispose([...this.tensors(), ...this.decays.map((d) => d.A)].filter((t) => !t.disposed));
    this.decays.length = 0;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
