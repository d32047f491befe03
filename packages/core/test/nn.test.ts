import { describe, expect, it } from 'vitest';
import {
  AdamW, Conv1d, SGD, crossEntropy, dispose, Embedding, Generator, Linear, loadSafetensors, memory, Module, ModuleList,
  Parameter, RMSNorm, serializeSafetensors, StateDictError, sum, tensor, tidy, valueAndGradsOf, ValueError, zeros,
  type Tensor,
} from '@ssmjs/core';

function values(t: Tensor): number[] {
  return Array.from(t.dataSync());
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-5): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(want[i])));
}

class Block extends Module {
  readonly norm: RMSNorm;
  readonly proj: Linear;
  constructor(dim: number, generator: Generator) {
    super();
    this.norm = this.registerModule('norm', new RMSNorm(dim));
    this.proj = this.registerModule('proj', new Linear(dim, dim, { generator }));
  }
  forward(x: Tensor): Tensor {
    return this.proj.forward(this.norm.forward(x));
  }
}

/** Embedding → blocks → RMSNorm → head: the shape of a small language model. */
class TinyLM extends Module {
  readonly embedding: Embedding;
  readonly layers: ModuleList<Block>;
  readonly normF: RMSNorm;
  readonly head: Linear;
  constructor(vocab: number, dim: number, layers: number, seed: number) {
    super();
    const generator = new Generator(seed);
    this.embedding = this.registerModule('embedding', new Embedding(vocab, dim, { std: 0.02, generator }));
    this.layers = this.registerModule('layers', new ModuleList(Array.from({ length: layers }, () => new Block(dim, generator))));
    this.normF = this.registerModule('norm_f', new RMSNorm(dim));
    this.head = this.registerModule('lm_head', new Linear(dim, vocab, { bias: false, generator }));
  }
  forward(ids: Tensor): Tensor {
    let h = this.embedding.forward(ids);
    for (const block of this.layers) h = block.forward(h);
    return this.head.forward(this.normF.forward(h));
  }
}

describe('Module parameter trees', () => {
  it('names parameters with dotted PyTorch state-dict names', () => {
    const model = new TinyLM(8, 4, 2, 0);
    expect([...model.namedParameters().keys()]).toEqual([
      'embedding.weight',
      'layers.0.norm.weight', 'layers.0.proj.weight', 'layers.0.proj.bias',
      'layers.1.norm.weight', 'layers.1.proj.weight', 'layers.1.proj.bias',
      'norm_f.weight',
      'lm_head.weight',
    ]);
    expect(model.parameters()).toHaveLength(9);
    expect(model.parameterCount()).toBe(8 * 4 + 2 * (4 + 16 + 4) + 4 + 32);
    expect(model.layers.at(1).proj.weight.name).toBe('weight');
    model.dispose();
  });

  it('lists a shared (tied) parameter once, so an optimizer updates it once', () => {
    const shared = new Parameter(tensor([1, 2]), 'w');
    class Child extends Module {
      constructor() {
        super();
        this.registerParameter('w', shared);
      }
    }
    class Parent extends Module {
      constructor() {
        super();
        this.registerModule('a', new Child());
        this.registerModule('b', new Child());
      }
    }
    const model = new Parent();
    expect([...model.namedParameters().keys()]).toEqual(['a.w']);
    const sgd = new SGD(model, { lr: 1 });
    const g = new Map([['a.w', tensor([0.5, 0.5])]]);
    sgd.step(g);
    expect(values(shared.value)).toEqual([0.5, 1.5]);
    dispose(g);
    model.dispose();
    expect(shared.value.disposed).toBe(true);
  });

  it('refuses duplicate and dotted names', () => {
    class Bad extends Module {
      constructor(name: string, twice: boolean) {
        super();
        this.registerParameter(name, zeros([1]));
        if (twice) this.registerParameter(name, zeros([1]));
      }
    }
    expect(() => new Bad('a.b', false)).toThrow(/no '\.'/);
    expect(() => new Bad('w', true)).toThrow(/'w' is already registered/);
  });

  it('Parameter.assign replaces and disposes the old value, checking shape', () => {
    const before = memory().liveTensors;
    const p = new Parameter(tensor([1, 2]), 'w');
    const old = p.value;
    p.assign(tensor([3, 4]));
    expect(old.disposed).toBe(true);
    expect(values(p.value)).toEqual([3, 4]);
    const wrong = tensor([1, 2, 3]);
    expect(() => p.assign(wrong)).toThrow(ValueError);
    expect(() => p.assign(wrong)).toThrow(/expected float32 \[2\], got float32 \[3\]/);
    wrong.dispose();
    // A value made inside tidy survives it once assigned.
    tidy(() => p.assign(tensor([5, 6])));
    expect(values(p.value)).toEqual([5, 6]);
    p.dispose();
    expect(memory().liveTensors).toBe(before);
  });
});

describe('layers', () => {
  it('Linear: weight [out, in], torch init bounds, x·Wᵀ + b', () => {
    const lin = new Linear(5, 3, { seed: 1 });
    expect(lin.weight.shape).toEqual([3, 5]);
    expect(lin.bias!.shape).toEqual([3]);
    const bound = 1 / Math.sqrt(5);
    for (const v of [...values(lin.weight.value), ...values(lin.bias!.value)]) expect(Math.abs(v)).toBeLessThanOrEqual(bound);
    expect(values(new Linear(5, 3, { seed: 1 }).weight.value)).toEqual(values(lin.weight.value));
    expect(values(new Linear(5, 3, { seed: 2 }).weight.value)).not.toEqual(values(lin.weight.value));

    const x = tensor([[1, 2, 3, 4, 5], [-1, 0, 0.5, 2, -3]]);
    const W = values(lin.weight.value);
    const b = values(lin.bias!.value);
    const xs = values(x);
    const want: number[] = [];
    for (let r = 0; r < 2; r++) for (let o = 0; o < 3; o++) {
      let acc = b[o];
      for (let i = 0; i < 5; i++) acc += xs[r * 5 + i] * W[o * 5 + i];
      want.push(acc);
    }
    const y = lin.forward(x);
    expect(y.shape).toEqual([2, 3]);
    expectClose(values(y), want);
    // A single vector, and a batch of sequences [B, L, in].
    expectClose(values(lin.forward(tensor([1, 2, 3, 4, 5]))), want.slice(0, 3));
    expect(lin.forward(zeros([2, 7, 5])).shape).toEqual([2, 7, 3]);
    expect(new Linear(5, 3, { bias: false }).bias).toBeNull();
  });

  it('Embedding looks up rows; std option', () => {
    const emb = new Embedding(1000, 16, { std: 0.02, seed: 3 });
    const w = values(emb.weight.value);
    const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
    expect(std).toBeGreaterThan(0.019);
    expect(std).toBeLessThan(0.021);
    const y = emb.forward(tensor(new Int32Array([7, 0, 7]), [1, 3]));
    expect(y.shape).toEqual([1, 3, 16]);
    expect(values(y).slice(0, 16)).toEqual(w.slice(7 * 16, 8 * 16));
    expect(values(y).slice(32, 48)).toEqual(w.slice(7 * 16, 8 * 16));
    emb.dispose();
  });

  it('RMSNorm: x·rsqrt(mean(x²) + eps)·weight', () => {
    const norm = new RMSNorm(4, 1e-5);
    norm.weight.assign(tensor([1, 2, 0.5, -1]));
    const x = [3, -1, 2, 0.5];
    const rms = Math.sqrt(x.reduce((s, v) => s + v * v, 0) / 4 + 1e-5);
    expectClose(values(norm.forward(tensor([x]))), [3 / rms, -2 / rms, 1 / rms, -0.5 / rms]);
  });

  it('Conv1d: weight stored [C, 1, K], causal depthwise cross-correlation', () => {
    const conv = new Conv1d(2, 3, { seed: 4 });
    expect(conv.weight.shape).toEqual([2, 1, 3]);
    for (const v of values(conv.weight.value)) expect(Math.abs(v)).toBeLessThanOrEqual(1 / Math.sqrt(3));
    conv.weight.assign(tensor([1, 2, 3, -1, 0, 1], [2, 1, 3]));
    conv.bias!.assign(tensor([0.5, 0]));
    const x = tensor([[[1, 2, 3, 4], [1, 1, 2, 2]]]); // [B=1, C=2, L=4]
    // y[c, t] = b[c] + Σ_k w[c, k]·x[c, t − 2 + k] with zeros before t = 0.
    expect(values(conv.forward(x))).toEqual([0.5 + 3, 0.5 + 2 + 6, 0.5 + 1 + 4 + 9, 0.5 + 2 + 6 + 12, 1, 1, 2 - 1, 2 - 1]);
  });
});

describe('state dicts', () => {
  it('round-trips between models, and through safetensors', () => {
    const a = new TinyLM(8, 4, 2, 1);
    const b = new TinyLM(8, 4, 2, 2);
    expect(values(b.head.weight.value)).not.toEqual(values(a.head.weight.value));
    const sd = a.stateDict();
    expect(Object.keys(sd)).toEqual([...a.namedParameters().keys()]);
    expect(b.loadStateDict(sd)).toEqual({ missing: [], unexpected: [] });
    dispose(sd); // the model keeps its own handles
    for (const [name, p] of a.namedParameters()) expect(values(b.namedParameters().get(name)!.value)).toEqual(values(p.value));

    const c = new TinyLM(8, 4, 2, 3);
    const saved = a.stateDict();
    const loaded = loadSafetensors(serializeSafetensors(saved));
    c.loadStateDict(loaded);
    dispose([saved, loaded]);
    expect(values(c.layers.at(1).proj.weight.value)).toEqual(values(a.layers.at(1).proj.weight.value));
    for (const m of [a, b, c]) m.dispose();
  });

  it('strict loading names every problem and assigns nothing', () => {
    const model = new TinyLM(8, 4, 1, 1);
    const before = model.stateDict();
    const donor = new TinyLM(8, 4, 1, 9).stateDict();
    const extra = zeros([2]);
    const wrong = zeros([4, 5]);
    const dict: Record<string, Tensor> = { ...donor, 'layers.0.proj.weight': wrong, 'layers.7.proj.weight': extra };
    delete dict['norm_f.weight'];

    let error: unknown;
    try {
      model.loadStateDict(dict);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StateDictError);
    const err = error as StateDictError;
    expect(err.missing).toEqual(['norm_f.weight']);
    expect(err.unexpected).toEqual(['layers.7.proj.weight']);
    expect(err.mismatched).toEqual([{ name: 'layers.0.proj.weight', expected: 'float32 [4, 4]', got: 'float32 [4, 5]' }]);
    expect(err.message).toMatch(/missing 1: norm_f\.weight; unexpected 1: layers\.7\.proj\.weight; mismatched 1: layers\.0\.proj\.weight \(expected float32 \[4, 4\], got float32 \[4, 5\]\)/);
    // Nothing half-loaded: the embedding (valid in the dict) is unchanged.
    expect(values(model.embedding.weight.value)).toEqual(values(before['embedding.weight']));

    // Non-strict skips missing and unexpected names but still refuses a wrong shape.
    expect(() => model.loadStateDict(dict, { strict: false })).toThrow(/mismatched 1: layers\.0\.proj\.weight/);
    const partial = { ...dict };
    delete partial['layers.0.proj.weight'];
    expect(model.loadStateDict(partial, { strict: false })).toEqual({
      missing: ['layers.0.proj.weight', 'norm_f.weight'],
      unexpected: ['layers.7.proj.weight'],
    });
    expect(values(model.embedding.weight.value)).toEqual(values(donor['embedding.weight']));
    dispose([before, donor, extra, wrong]);
    model.dispose();
  });
});

describe('training', () => {
  it('valueAndGradsOf gives gradients by parameter name', () => {
    const lin = new Linear(3, 2, { seed: 5 });
    const x = tensor([[1, 2, 3], [4, 5, 6]]);
    const { loss, grads } = valueAndGradsOf(lin, () => sum(lin.forward(x)));
    // d/dW Σ (xWᵀ + b) = column sums of x for every output row; d/db = batch size.
    expect([...grads.keys()]).toEqual(['weight', 'bias']);
    expect(values(grads.get('weight')!)).toEqual([5, 7, 9, 5, 7, 9]);
    expect(values(grads.get('bias')!)).toEqual([2, 2]);
    expect(loss.shape).toEqual([]);
    lin.bias!.requiresGrad = false;
    const frozen = valueAndGradsOf(lin, () => sum(lin.forward(x)));
    expect([...frozen.grads.keys()]).toEqual(['weight']);
    dispose([loss, grads, frozen, x]);
    lin.dispose();
  });

  it('gradients reach the Conv1d weight in its stored [C, 1, K] shape', () => {
    const conv = new Conv1d(2, 3, { seed: 6 });
    const x = tensor([[[1, 2, 3, 4], [0.5, -1, 2, 1]]]);
    const { loss, grads } = valueAndGradsOf(conv, () => sum(conv.forward(x)));
    // d/dw[c, 0, k] Σ_t y[c, t] = Σ_t x[c, t − 2 + k] with zeros before t = 0, i.e. x[c, 0] + … + x[c, k + 1].
    expect(grads.get('weight')!.shape).toEqual([2, 1, 3]);
    expect(values(grads.get('weight')!)).toEqual([1 + 2, 1 + 2 + 3, 1 + 2 + 3 + 4, 0.5 - 1, 0.5 - 1 + 2, 0.5 - 1 + 2 + 1]);
    expect(values(grads.get('bias')!)).toEqual([4, 4]);
    dispose([loss, grads, x]);
    conv.dispose();
  });

  it('a tiny Embedding + RMSNorm + Linear model learns with AdamW without leaking', () => {
    const vocab = 8;
    const model = new TinyLM(vocab, 16, 1, 7);
    const optimizer = new AdamW(model, { lr: 1e-2 });
    // Next-token task: token i is always followed by (3i + 1) mod 8.
    const inputs = Array.from({ length: 32 }, (_, i) => i % vocab);
    const ids = tensor(new Int32Array(inputs), [32]);
    const targets = tensor(new Int32Array(inputs.map((t) => (3 * t + 1) % vocab)), [32]);
    const losses: number[] = [];
    let afterFirst = memory();
    for (let step = 0; step < 30; step++) {
      const { loss, grads } = valueAndGradsOf(model, () => crossEntropy(model.forward(ids), targets));
      losses.push(loss.dataSync()[0]);
      optimizer.step(grads);
      dispose([loss, grads]);
      if (step === 0) afterFirst = memory(); // the optimizer's moments exist from here on
    }
    expect(memory()).toEqual(afterFirst);
    expect(losses[0]).toBeGreaterThan(Math.log(vocab) * 0.9); // starts near chance
    expect(losses[29]).toBeLessThan(losses[0] * 0.2); // measured: 2.12 → 0.03
    dispose([ids, targets]);
    optimizer.dispose();
    model.dispose();
  });
});
