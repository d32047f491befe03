import { abs, matmul, max, rmsNorm, sub, tensor, tidy } from '@ssmjs/core';
import { MambaLM } from '@ssmjs/mamba';
import { describe, expect, it } from 'vitest';
import { deltasOf, hiddenAfterLayers, stateNormsOf } from '../src/worker/inspect';
import { tokenizerFromJSON } from '../src/worker/tokenizers';
import { readFile } from 'node:fs/promises';

const ids = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5];

describe('inspect: Δ recomputed from the weights', () => {
  it('follows the model: its path to the last layer gives the logits of model.forward', () => {
    const model = MambaLM.create({ dModel: 16, nLayer: 2, vocabSize: 16, dState: 4 }, { seed: 3 });
    const { deltas, hidden } = hiddenAfterLayers(model, ids);
    const params = model.namedParameters();
    const gap = tidy(() => {
      const ours = matmul(rmsNorm(hidden, params.get('backbone.norm_f.weight')!.value, 1e-5), params.get('backbone.embeddings.weight')!.value, { transposeB: true });
      return max(abs(sub(ours, model.forward(tensor(Int32Array.from(ids), [1, ids.length], 'int32'))))).dataSync()[0];
    });
    expect(gap).toBeLessThan(1e-5);
    expect(deltas.map((d) => d.shape)).toEqual([[ids.length, model.config.dInner], [ids.length, model.config.dInner]]);
    for (const t of [hidden, ...deltas]) t.dispose();
    model.dispose();
  });

  it('Δ at the first token of layer 0 is softplus(dt_proj(x_proj(silu(conv(in_proj x)))) + bias), computed by hand', async () => {
    const model = MambaLM.create({ dModel: 8, nLayer: 1, vocabSize: 16, dState: 4, dConv: 4 }, { seed: 5 });
    const [delta] = await deltasOf(model, ids);
    const p = (name: string) => model.namedParameters().get(name)!.value.dataSync() as Float32Array;
    const { dModel, dInner, dtRank, dState, dConv } = model.config;
    // Token 0: the causal conv sees only its last tap.
    const e = p('backbone.embeddings.weight').slice(ids[0] * dModel, (ids[0] + 1) * dModel);
    const ms = e.reduce((s, v) => s + v * v, 0) / dModel;
    const norm = p('backbone.layers.0.norm.weight');
    const normed = Array.from(e, (v, i) => (v / Math.sqrt(ms + 1e-5)) * norm[i]);
    const inProj = p('backbone.layers.0.mixer.in_proj.weight');
    const conv = p('backbone.layers.0.mixer.conv1d.weight');
    const convBias = p('backbone.layers.0.mixer.conv1d.bias');
    const xc = Array.from({ length: dInner }, (_, c) => {
      const x = normed.reduce((s, v, i) => s + v * inProj[c * dModel + i], 0);
      const y = x * conv[c * dConv + dConv - 1] + convBias[c];
      return y / (1 + Math.exp(-y));
    });
    const xProj = p('backbone.layers.0.mixer.x_proj.weight');
    const dtLow = Array.from({ length: dtRank }, (_, r) => xc.reduce((s, v, c) => s + v * xProj[r * dInner + c], 0));
    const dtProj = p('backbone.layers.0.mixer.dt_proj.weight');
    const dtBias = p('backbone.layers.0.mixer.dt_proj.bias');
    const expected = Array.from({ length: dInner }, (_, c) => {
      const dt = dtLow.reduce((s, v, r) => s + v * dtProj[c * dtRank + r], 0) + dtBias[c];
      return Math.log1p(Math.exp(dt));
    });
    expect(dState).toBe(4);
    for (let c = 0; c < dInner; c++) expect(delta[c]).toBeCloseTo(expected[c], 5);
    model.dispose();
  });

  it('refuses per-token Δ for a model whose config names an LTI mixer', () => {
    const model = MambaLM.create({ dModel: 8, nLayer: 1, vocabSize: 16, dState: 4 }, { seed: 1 });
    Object.defineProperty(model.config, 'mixer', { value: 's4d' });
    expect(() => hiddenAfterLayers(model, ids)).toThrow(/'s4d' mixer, whose Δ does not depend on the input/);
    model.dispose();
  });

  it('state norms grow from zero as tokens arrive and stay finite', async () => {
    const model = MambaLM.create({ dModel: 8, nLayer: 2, vocabSize: 16, dState: 4 }, { seed: 2 });
    const norms = await stateNormsOf(model, ids);
    expect(norms).toHaveLength(2);
    for (const layer of norms) {
      expect(layer).toHaveLength(ids.length);
      expect(layer.every((v) => Number.isFinite(v) && v > 0)).toBe(true);
    }
    model.dispose();
  });
});

describe('tokenizerFromJSON', () => {
  it("opens the char tokenizer `ssm train` wrote for the bundled checkpoint", async () => {
    const text = await readFile(new URL('../public/checkpoints/brown-char-tiny/tokenizer.json', import.meta.url), 'utf8');
    const { tokenizer, kind } = tokenizerFromJSON(text);
    expect(kind).toBe('CharTokenizer');
    expect(tokenizer.decode(tokenizer.encode('The jury said'))).toBe('The jury said');
  });

  it('opens a Hugging Face tokenizer.json (a BPE trained by @ssmjs/tokenizer, in that format)', async () => {
    const text = await readFile(new URL('../../../packages/tokenizer/test/fixtures/trained-bpe.tokenizer.json', import.meta.url), 'utf8');
    const { tokenizer, kind } = tokenizerFromJSON(text);
    expect(kind).toBe('Tokenizer (BPE)');
    expect(tokenizer.decode(tokenizer.encode('the state of the model'))).toBe('the state of the model');
  });

  it('opens the byte form and refuses text that is not a JSON object', () => {
    expect(tokenizerFromJSON('{"type":"ByteTokenizer","specialTokens":[]}').tokenizer.encode('é')).toEqual([0xc3, 0xa9]);
    expect(() => tokenizerFromJSON('[1, 2]')).toThrow(/must hold an object, got an array/);
    expect(() => tokenizerFromJSON('{oops')).toThrow(/not JSON/);
  });
});
