import { dispose, keep, zeros, type Tensor } from '@ssmjs/core';
import type { MambaConfig } from './config';

/**
 * The whole memory of a Mamba decoder: per layer, the last dConv inputs of the causal conv
 * [batch, dInner, dConv] and the SSM state [batch, dInner, dState]. Its size does not depend on how many
 * tokens were seen. The cache owns its tensors: dispose it when done (`using` works too).
 */
export class MambaCache {
  /** Tokens consumed so far. */
  seqLen = 0;

  /** @internal built by the model (`MambaLM.createCache` / `prefill`). */
  constructor(
    readonly batch: number,
    /** @internal */ readonly conv: Tensor[],
    /** @internal */ readonly ssm: Tensor[],
  ) {
    for (const t of [...conv, ...ssm]) keep(t);
  }

  /** An empty cache (zeros): stepping from it equals running the parallel path from the start. */
  static zeros(config: MambaConfig, batch: number): MambaCache {
    const conv = Array.from({ length: config.nLayer }, () => zeros([batch, config.dInner, config.dConv]));
    const ssm = Array.from({ length: config.nLayer }, () => zeros([batch, config.dInner, config.dState]));
    return new MambaCache(batch, conv, ssm);
  }

  /** @internal Swaps in a layer's new conv state and frees the old one. */
  replaceConv(layer: number, next: Tensor): void {
    const old = this.conv[layer];
    this.conv[layer] = keep(next);
    if (old !== next) old.dispose();
  }

  /** Bytes held by the states (4 bytes per float). */
  get bytes(): number {
    return [...this.conv, ...this.ssm].reduce((n, t) => n + 4 * t.size, 0);
  }

  get disposed(): boolean {
    return this.conv.some((t) => t.disposed);
  }

  dispose(): void {
    dispose([...this.conv, ...this.ssm]);
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
