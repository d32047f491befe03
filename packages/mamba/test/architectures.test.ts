/**
 * The Mamba paper's ablation architectures in one MambaLM: the S6 mixer without its gate, and the LTI
 * mixers of @ssmjs/s4 (S4D, S4) in the Mamba block — training, the recurrent path, chunked prefill,
 * checkpoints.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdamW, dispose, memory, reshape, setBackend, slice, tensor, tidy, valueAndGradsOf, type Tensor } from '@ssmjs/core';
import { ConfigError, MambaConfig, MambaLM, type MambaConfigInit } from '@ssmjs/mamba';
import { describe, expect, it } from 'vitest';
import { maxAbsDiff, positions } from './helpers';

const base = { dModel: 16, nLayer: 2, vocabSize: 12, dState: 8, padVocabSizeMultiple: 8 } satisfies MambaConfigInit;
const architectures: [string, MambaConfigInit][] = [
  ['mamba', base],
  ['mamba without gate', { ...base, gated: false }],
  ['s4d', { ...base, mixer: 's4d' }],
  ['s4d without gate', { ...base, mixer: 's4d', gated: false }],
  ['s4', { ...base, mixer: 's4', lMax: 64 }],
];

const randomIds = (batch: number, L: number, seed: number): Tensor =>
  tensor(Int32Array.from({ length: batch * L }, (_, i) => (i * 7 + seed * 13 + ((i * i) % 5)) % 12), [batch, L], 'int32');

describe.each(architectures)('architecture %s', (_, init) => {
  it('trains: the loss falls', async () => {
    await setBackend('cpu');
    const model = MambaLM.create(init, { seed: 1 });
    const optimizer = new AdamW(model, { lr: 1e-2, weightDecay: 0 });
    const ids = tensor(Int32Array.from({ length: 2 * 16 }, (_, i) => (i * 5) % 12), [2, 16], 'int32');
    const losses: number[] = [];
    for (let step = 0; step < 12; step++) {
      const { loss, grads } = valueAndGradsOf(model, () => model.loss(ids));
      optimizer.step(grads);
      losses.push((await loss.data())[0]);
      dispose([loss, [...grads.values()]]);
    }
    expect(losses[11]).toBeLessThan(losses[0] * 0.6);
    dispose(ids);
    optimizer.dispose();
    model.dispose();
  });

  it('prefill + step give the parallel logits, position by position', async () => {
    await setBackend('cpu');
    const model = MambaLM.create(init, { seed: 2 });
    const ids = randomIds(2, 20, 1);
    const parallel = model.forward(ids);
    const { logits, cache } = model.prefill(slice(ids, [0, 0], [2, 7]));
    const rows = [await logits.data()];
    logits.dispose();
    for (let t = 7; t < 20; t++) {
      const next = tidy(() => model.step(reshape(slice(ids, [0, t], [2, 1]), [2]), cache));
      rows.push(await next.data());
      next.dispose();
    }
    const V = model.config.vocabSize;
    const expected = await parallel.data();
    // rows[k] holds position 6 + k of both sequences.
    for (let k = 0; k < rows.length; k++) {
      for (let b = 0; b < 2; b++) {
        const got = rows[k].subarray(b * V, (b + 1) * V);
        const want = expected.subarray((b * 20 + 6 + k) * V, (b * 20 + 7 + k) * V);
        expect(maxAbsDiff(got, want)).toBeLessThan(1e-4);
      }
    }
    dispose([ids, parallel]);
    cache.dispose();
    model.dispose();
  });

  it('chunked prefill (continuing a cache) equals one prefill and stepping, with flat memory', async () => {
    await setBackend('cpu');
    const model = MambaLM.create(init, { seed: 3 });
    const L = 40;
    const ids = randomIds(2, L, 2);
    const parallel = model.forward(ids);
    const whole = model.prefill(ids);
    // Chunks of 3 (shorter than the conv), 13 and 24 tokens.
    const cache = model.createCache(2);
    const chunkLogits: Float32Array[] = [];
    let live = 0;
    for (const [from, to] of [[0, 3], [3, 16], [16, L]]) {
      const chunk = slice(ids, [0, from], [2, to - from]);
      const { logits } = model.prefill(chunk, { cache, allPositions: true });
      chunkLogits.push((await logits.data()) as Float32Array);
      dispose([chunk, logits]);
      if (from === 3) live = memory().liveTensors;
    }
    expect(memory().liveTensors, 'a chunk leaves nothing behind').toBe(live);
    expect(cache.seqLen).toBe(L);
    const V = model.config.vocabSize;
    const expected = (await parallel.data()) as Float32Array;
    let at = 0;
    for (const [i, [from, to]] of ([[0, 3], [3, 16], [16, L]] as const).entries()) {
      const want = positions(expected, [2, L, V], from, to);
      expect(maxAbsDiff(chunkLogits[i], want), `positions ${from}…${to - 1}`).toBeLessThan(1e-4);
      at = to;
    }
    expect(at).toBe(L);
    // The continued cache decodes the next token as the one-shot prefill's cache does.
    const next = tensor(Int32Array.from([3, 5]), [2], 'int32');
    const a = model.step(next, cache);
    const b = model.step(next, whole.cache);
    expect(maxAbsDiff(await a.data(), await b.data())).toBeLessThan(1e-4);
    dispose([ids, parallel, whole.logits, next, a, b]);
    cache.dispose();
    whole.cache.dispose();
    model.dispose();
  });

  it('save → fromPretrained gives the same model', async () => {
    await setBackend('cpu');
    const model = MambaLM.create(init, { seed: 4 });
    const dir = await mkdtemp(join(tmpdir(), 'ssmjs-arch-'));
    await model.save(dir);
    const again = await MambaLM.fromPretrained(dir);
    expect([...again.namedParameters().keys()]).toEqual([...model.namedParameters().keys()]);
    expect(again.config.mixer).toBe(model.config.mixer);
    expect(again.config.gated).toBe(model.config.gated);
    const ids = randomIds(1, 10, 3);
    const [x, y] = [model.forward(ids), again.forward(ids)];
    expect(maxAbsDiff(await x.data(), await y.data())).toBe(0);
    const json = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    if (model.config.transformersCompatible) {
      expect(json.model_type).toBe('mamba');
      expect(json.mixer).toBeUndefined();
    } else {
      expect(json.model_type).toBe('ssmjs_mamba');
      expect(json.mixer).toBe(model.config.mixer);
      expect(() => model.config.toHF({ transformers: true })).toThrow(ConfigError);
    }
    dispose([ids, x, y]);
    await rm(dir, { recursive: true, force: true });
    model.dispose();
    again.dispose();
  });
});

describe('LTI architectures in MambaLM', () => {
  it('register one LtiMixer per layer under backbone.layers.{i}.mixer', () => {
    const model = MambaLM.create({ ...base, mixer: 's4d' }, { seed: 0 });
    const names = [...model.namedParameters().keys()];
    expect(names[0]).toBe('backbone.embeddings.weight');
    expect(names).toContain('backbone.layers.0.mixer.kernel.log_dt');
    expect(names).toContain('backbone.layers.1.mixer.in_proj.weight');
    expect(names).not.toContain('backbone.layers.0.mixer.A_log');
    expect(names[names.length - 1]).toBe('backbone.norm_f.weight');
    model.dispose();
  });

  it('the no-gate Mamba mixer has an in_proj that makes x only', () => {
    const model = MambaLM.create({ ...base, gated: false }, { seed: 0 });
    expect(model.namedParameters().get('backbone.layers.0.mixer.in_proj.weight')!.value.shape).toEqual([32, 16]);
    model.dispose();
  });

  it('config errors name the field', () => {
    expect(() => new MambaConfig({ ...base, mixer: 'lstm' as 's4' })).toThrow(/'mixer' must be one of 'mamba', 's4d', 's4'/);
    expect(() => new MambaConfig({ ...base, mixer: 's4' })).toThrow(/'lMax' must be a positive integer/);
    expect(() => MambaConfig.fromHF({ ...new MambaConfig({ ...base, mixer: 's4', lMax: 8 }).toHF(), l_max: 0 })).toThrow(/'l_max'/);
    expect(() => new MambaConfig({ ...base, gated: false }).toHF({ transformers: true })).toThrow(/gated/);
  });

  it('a checkpoint of one architecture does not load as another', async () => {
    const model = MambaLM.create({ ...base, mixer: 's4d' }, { seed: 0 });
    const dir = await mkdtemp(join(tmpdir(), 'ssmjs-arch-'));
    await model.save(dir);
    const json = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    const weights = new Uint8Array(await readFile(join(dir, 'model.safetensors')));
    const live = memory().liveTensors;
    await expect(MambaLM.fromPretrained({ config: { ...json, mixer: 'mamba', model_type: 'mamba' }, weights })).rejects.toThrow(/missing 'backbone.layers.0.mixer.A_log'/);
    expect(memory().liveTensors).toBe(live);
    await rm(dir, { recursive: true, force: true });
    model.dispose();
  });
});
