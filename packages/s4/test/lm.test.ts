/**
 * The wiring a language model needs around LtiMixer, as MambaLM does around its mixer:
 * embedding → n × (RMSNorm → mixer, plus the residual) → RMSNorm → head tied to the embedding.
 * Parameter names follow MambaLM's (`backbone.layers.0.mixer.in_proj.weight`, …).
 */
import {
  AdamW, add, concat, crossEntropy, dispose, Embedding, matmul, Module, ModuleList, reshape, RMSNorm, slice, tensor, tidy,
  valueAndGradsOf, type Tensor,
} from '@ssmjs/core';
import { describe, expect, it } from 'vitest';
import { LtiMixer, type LtiMixerOptions, type LtiMixerState } from '../src/index';
import { randomGenerator, relativeError } from './helpers';

class Layer extends Module {
  readonly norm: RMSNorm;
  readonly mixer: LtiMixer;

  constructor(options: LtiMixerOptions) {
    super();
    this.norm = this.registerModule('norm', new RMSNorm(options.dModel));
    this.mixer = this.registerModule('mixer', new LtiMixer(options));
  }
}

class Backbone extends Module {
  readonly embeddings: Embedding;
  readonly layers: ModuleList<Layer>;
  readonly normF: RMSNorm;

  constructor(vocab: number, nLayer: number, options: LtiMixerOptions) {
    super();
    this.embeddings = this.registerModule('embeddings', new Embedding(vocab, options.dModel, { std: 0.02, seed: options.seed }));
    this.layers = this.registerModule('layers', new ModuleList(Array.from({ length: nLayer }, (_, i) => new Layer({ ...options, seed: (options.seed ?? 0) + i + 1 }))));
    this.normF = this.registerModule('norm_f', new RMSNorm(options.dModel));
  }
}

class TinyLtiLM extends Module {
  readonly backbone: Backbone;

  constructor(vocab: number, nLayer: number, options: LtiMixerOptions) {
    super();
    this.backbone = this.registerModule('backbone', new Backbone(vocab, nLayer, options));
  }

  private head(hidden: Tensor): Tensor {
    return matmul(this.backbone.normF.forward(hidden), this.backbone.embeddings.weight.value, { transposeB: true });
  }

  /** ids [batch, L] → logits [batch, L, vocab]. */
  forward(ids: Tensor): Tensor {
    let hidden = this.backbone.embeddings.forward(ids);
    for (const layer of this.backbone.layers) hidden = add(hidden, layer.mixer.forward(layer.norm.forward(hidden)));
    return this.head(hidden);
  }

  /** Logits of the prompt's last position and one decoding state per layer. */
  prefill(ids: Tensor): { logits: Tensor; states: LtiMixerState[] } {
    const [batch, L] = ids.shape;
    let hidden = this.backbone.embeddings.forward(ids);
    const states: LtiMixerState[] = [];
    for (const layer of this.backbone.layers) {
      const { y, state } = layer.mixer.prefill(layer.norm.forward(hidden));
      hidden = add(hidden, y);
      states.push(state);
    }
    const d = hidden.shape[2];
    return { logits: this.head(reshape(slice(hidden, [0, L - 1, 0], [batch, 1, d]), [batch, d])), states };
  }

  /** ids [batch] → logits [batch, vocab], advancing the states. */
  step(ids: Tensor, states: LtiMixerState[]): Tensor {
    let hidden = this.backbone.embeddings.forward(ids);
    this.backbone.layers.items.forEach((layer, i) => {
      hidden = add(hidden, layer.mixer.step(layer.norm.forward(hidden), states[i]));
    });
    return this.head(hidden);
  }
}

/** Random tokens; the target at t is the token at t − 2 (ignored for the first two). */
function shiftBatch(random: () => number, batch: number, L: number, vocab: number) {
  const inputs = Int32Array.from({ length: batch * L }, () => Math.floor(random() * vocab));
  const targets = Int32Array.from(inputs, (_, i) => (i % L >= 2 ? inputs[i - 2] : -100));
  return { ids: tensor(inputs, [batch, L], 'int32'), targets: tensor(targets, [batch * L], 'int32') };
}

describe.each([['s4d'], ['s4']] as const)('a tiny LM of LtiMixers (%s)', (kernel) => {
  const options: LtiMixerOptions = { dModel: 16, dState: 8, kernel, lMax: 16, seed: 3 };

  it('names its parameters as MambaLM does', () => {
    const lm = new TinyLtiLM(8, 2, options);
    const names = [...lm.namedParameters().keys()];
    expect(names).toContain('backbone.embeddings.weight');
    expect(names).toContain('backbone.layers.1.norm.weight');
    expect(names).toContain('backbone.layers.0.mixer.in_proj.weight');
    expect(names).toContain('backbone.layers.0.mixer.kernel.C');
    expect(names).toContain('backbone.norm_f.weight');
    lm.dispose();
  });

  it('learns to repeat the token from two steps back, and decodes as it runs in parallel', () => {
    const vocab = 8;
    const lm = new TinyLtiLM(vocab, 2, options);
    const optimizer = new AdamW(lm, { lr: 1e-2, weightDecay: 0 });
    const random = randomGenerator(4);
    const losses: number[] = [];
    for (let i = 0; i < 30; i++) {
      const { ids, targets } = shiftBatch(random, 8, 16, vocab);
      const { loss, grads } = valueAndGradsOf(lm, () => crossEntropy(reshape(lm.forward(ids), [8 * 16, vocab]), targets));
      optimizer.step(grads);
      losses.push(loss.dataSync()[0]);
      dispose([ids, targets, loss, [...grads.values()]]);
    }
    // Chance is log 8 ≈ 2.08 nats.
    expect(losses.slice(-5).reduce((a, b) => a + b) / 5).toBeLessThan(0.5 * Math.log(vocab));

    const { ids } = shiftBatch(random, 2, 16, vocab);
    const parallel = tidy(() => lm.forward(ids)); // [2, 16, vocab]
    const { logits, states } = tidy(() => lm.prefill(slice(ids, [0, 0], [2, 10])));
    const decoded = tidy(() => {
      const rows = [reshape(logits, [2, 1, vocab])];
      for (let t = 10; t < 16; t++) rows.push(reshape(lm.step(reshape(slice(ids, [0, t], [2, 1]), [2]), states), [2, 1, vocab]));
      return concat(rows, 1);
    });
    const expected = tidy(() => slice(parallel, [0, 9, 0], [2, 7, vocab]));
    expect(relativeError(decoded.dataSync(), expected.dataSync())).toBeLessThan(1e-5);
    dispose([ids, parallel, logits, decoded, expected]);
    for (const s of states) s.dispose();
    optimizer.dispose();
    lm.dispose();
  });
});
