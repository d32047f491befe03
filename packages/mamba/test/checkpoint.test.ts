import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AdamW, CheckpointError, DTypeError, ValueError, memory, parseSafetensors, serializeSafetensors, tensor, valueAndGradsOf,
  type HostTensor, type Tensor,
} from '@ssmjs/core';
import { ConfigError, MambaConfig, MambaLM, parameterShapes } from '@ssmjs/mamba';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureDir, idsTensor, loadExpected, maxAbsDiff } from './helpers';

const tiny = loadExpected('tiny');
const tinyConfig = JSON.parse(readFileSync(join(fixtureDir('tiny'), 'config.json'), 'utf8'));
const tinyWeights = (): Record<string, HostTensor> => {
  const { entries } = parseSafetensors(new Uint8Array(readFileSync(join(fixtureDir('tiny'), 'model.safetensors'))));
  const out: Record<string, HostTensor> = {};
  for (const [name, e] of Object.entries(entries)) {
    const data = new Float32Array(e.data.slice().buffer);
    out[name] = { dtype: 'float32', shape: e.shape, data };
  }
  return out;
};

async function logitsOf(model: MambaLM): Promise<Float32Array> {
  const ids = idsTensor(tiny.get('input_ids')!);
  const logits = model.forward(ids);
  const data = (await logits.data()) as Float32Array;
  ids.dispose();
  logits.dispose();
  return data;
}

async function loadError(source: Parameters<typeof MambaLM.fromPretrained>[0]): Promise<Error> {
  const live = memory().liveTensors;
  const error = await MambaLM.fromPretrained(source).then(
    () => new Error('expected loading to fail'),
    (e: Error) => e,
  );
  expect(memory().liveTensors, 'nothing half-loaded').toBe(live);
  return error;
}

describe('checkpoints', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ssmjs-mamba-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a mamba_ssm checkpoint (embedding name, explicit lm_head, padded vocab) gives the HF logits', async () => {
    const model = await MambaLM.fromPretrained(fixtureDir('tiny-mamba-ssm'));
    expect(model.config.vocabSize).toBe(64);
    expect(maxAbsDiff(await logitsOf(model), tiny.get('logits_f64')!.data)).toBeLessThanOrEqual(1e-4);
    model.dispose();
  });

  it('save → load is bit-exact, and the saved config is the HF form', async () => {
    const model = MambaLM.create({ dModel: 24, nLayer: 2, vocabSize: 30, padVocabSizeMultiple: 8, bias: true }, { seed: 9 });
    const target = join(dir, 'saved');
    await model.save(target);
    const config = JSON.parse(await readFile(join(target, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ model_type: 'mamba', vocab_size: 32, hidden_size: 24, use_bias: true, time_step_rank: 2 });
    const loaded = await MambaLM.fromPretrained(target);
    const a = model.namedParameters();
    const b = loaded.namedParameters();
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [name, p] of a) expect(Buffer.from((await b.get(name)!.value.data()).buffer).equals(Buffer.from((await p.value.data()).buffer)), name).toBe(true);
    // The safetensors header carries format=pt, which transformers requires.
    expect(parseSafetensors(new Uint8Array(await readFile(join(target, 'model.safetensors')))).metadata.format).toBe('pt');
    // A writer target gets the same two files.
    const files = new Map<string, Uint8Array | string>();
    await loaded.save({ write: (name, data) => void files.set(name, data) });
    expect([...files.keys()].sort()).toEqual(['config.json', 'model.safetensors']);
    expect(Buffer.from(files.get('model.safetensors') as Uint8Array).equals(await readFile(join(target, 'model.safetensors')))).toBe(true);
    model.dispose();
    loaded.dispose();
  });

  it('reads sharded checkpoints through model.safetensors.index.json', async () => {
    const weights = tinyWeights();
    const names = Object.keys(weights);
    const halves = [names.slice(0, 7), names.slice(7)];
    const target = join(dir, 'sharded');
    await rm(target, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(target));
    const weightMap: Record<string, string> = {};
    for (const [i, half] of halves.entries()) {
      const file = `model-0000${i + 1}-of-00002.safetensors`;
      await writeFile(join(target, file), serializeSafetensors(Object.fromEntries(half.map((n) => [n, weights[n]]))));
      for (const n of half) weightMap[n] = file;
    }
    await writeFile(join(target, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    await writeFile(join(target, 'config.json'), JSON.stringify(tinyConfig));
    const model = await MambaLM.fromPretrained(target);
    expect(maxAbsDiff(await logitsOf(model), tiny.get('logits_f64')!.data)).toBeLessThanOrEqual(1e-4);
    model.dispose();
  });

  it('reads from a base URL (fetch)', async () => {
    const root = fixtureDir('tiny');
    const server: Server = createServer((req, res) => {
      try {
        res.end(readFileSync(join(root, (req.url ?? '').replace(/^\/models\/tiny\//, ''))));
      } catch {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      const model = await MambaLM.fromPretrained(`http://127.0.0.1:${port}/models/tiny`);
      expect(maxAbsDiff(await logitsOf(model), tiny.get('logits_f64')!.data)).toBeLessThanOrEqual(1e-4);
      model.dispose();
    } finally {
      server.close();
    }
  });

  it('reads { config, weights } from memory: bytes or tensors', async () => {
    const bytes = new Uint8Array(readFileSync(join(fixtureDir('tiny'), 'model.safetensors')));
    const fromBytes = await MambaLM.fromPretrained({ config: tinyConfig, weights: bytes });
    const fromHost = await MambaLM.fromPretrained({ config: MambaConfig.fromJSON(tinyConfig), weights: tinyWeights() });
    expect(await logitsOf(fromHost)).toEqual(await logitsOf(fromBytes));
    fromBytes.dispose();
    fromHost.dispose();
  });

  it('names missing, unexpected and wrong-shape weights before assigning anything', async () => {
    const weights = tinyWeights();
    delete weights['backbone.layers.1.mixer.D'];
    weights['backbone.layers.0.mixer.x_proj.weight'] = { dtype: 'float32', shape: [10, 32], data: new Float32Array(10 * 32) };
    weights['backbone.layers.0.mixer.extra'] = { dtype: 'float32', shape: [2], data: new Float32Array(2) };
    const e = await loadError({ config: tinyConfig, weights });
    expect(e).toBeInstanceOf(CheckpointError);
    expect(e.message).toContain(`missing 'backbone.layers.1.mixer.D' [32]`);
    expect(e.message).toContain(`'backbone.layers.0.mixer.x_proj.weight' has shape [10, 32], expected [9, 32]`);
    expect(e.message).toContain(`unexpected 'backbone.layers.0.mixer.extra' [2]`);
  });

  it('a wrong shape names the tensor, the shape it has and the one expected', async () => {
    const weights = tinyWeights();
    weights['backbone.layers.0.mixer.A_log'] = { dtype: 'float32', shape: [32, 5], data: new Float32Array(160) };
    const e = await loadError({ config: tinyConfig, weights });
    expect(e.message).toContain(`'backbone.layers.0.mixer.A_log' has shape [32, 5], expected [32, 4]`);
  });

  it('an lm_head that differs from the embedding is refused (the head is tied)', async () => {
    const weights = tinyWeights();
    const head = Float32Array.from(weights['backbone.embeddings.weight'].data);
    head[5] += 1;
    weights['lm_head.weight'] = { dtype: 'float32', shape: [64, 16], data: head };
    expect((await loadError({ config: tinyConfig, weights })).message).toContain('differs from');
  });

  it('bad configs and missing files are typed errors', async () => {
    const e = await loadError({ config: { ...tinyConfig, hidden_size: undefined }, weights: tinyWeights() });
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).field).toBe('hidden_size');
    expect(await loadError(join(dir, 'nowhere'))).toBeInstanceOf(CheckpointError);
    const empty = join(dir, 'only-config');
    await import('node:fs/promises').then((fs) => fs.mkdir(empty, { recursive: true }));
    await writeFile(join(empty, 'config.json'), JSON.stringify(tinyConfig));
    expect((await loadError(empty)).message).toContain('model.safetensors');
  });
});

describe('inputs', () => {
  let model: MambaLM;
  beforeAll(() => {
    model = MambaLM.create({ dModel: 16, nLayer: 1, vocabSize: 20 }, { seed: 1 });
  });
  afterAll(() => model.dispose());

  const expectError = (f: () => unknown, type: new (...a: never[]) => Error, text: string) => {
    let error: unknown;
    try {
      dispose(f());
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(type);
    expect((error as Error).message).toContain(text);
  };
  const dispose = (x: unknown) => (x as Tensor | undefined)?.dispose?.();

  it('token ids out of the vocabulary, empty inputs and float ids are refused', async () => {
    const ids = tensor(Int32Array.from([1, 20]), [1, 2], 'int32');
    expectError(() => model.forward(ids), ValueError, 'token id 20 at position 1 is outside the vocabulary [0, 20)');
    ids.dispose();
    const empty = tensor(new Int32Array(0), [1, 0], 'int32');
    expectError(() => model.forward(empty), ValueError, 'empty');
    empty.dispose();
    const floats = tensor([[1, 2]]);
    expectError(() => model.forward(floats), DTypeError, 'int32');
    floats.dispose();
    await expect(model.generate([], { maxNewTokens: 3 })).rejects.toThrow(ValueError);
    await expect(model.generate([[]], { maxNewTokens: 3 })).rejects.toThrow(/prompt is empty/);
    await expect(model.generate([1, -1], { maxNewTokens: 3 })).rejects.toThrow(/outside the vocabulary/);
    await expect(model.generate([1], { maxNewTokens: 3, temperature: -1 })).rejects.toThrow(ValueError);
  });
});

describe('MambaLM.create', () => {
  const config = new MambaConfig({ dModel: 64, nLayer: 4, vocabSize: 100, dState: 8, dtMin: 0.001, dtMax: 0.1 });

  it('follows the reference initialization', async () => {
    const model = MambaLM.create(config, { seed: 5 });
    const p = model.namedParameters();
    const get = async (name: string) => (await p.get(name)!.value.data()) as Float32Array;
    expect([...p.keys()]).toEqual([...parameterShapes(config).keys()]);
    const aLog = await get('backbone.layers.2.mixer.A_log');
    for (let c = 0; c < config.dInner; c += 37) for (let n = 0; n < 8; n++) expect(aLog[c * 8 + n]).toBeCloseTo(Math.log(n + 1), 6);
    expect([...(await get('backbone.layers.0.mixer.D'))].every((v) => v === 1)).toBe(true);
    // softplus(dt bias) lies in [dt_min, dt_max] and spreads over it log-uniformly.
    const dt = [...(await get('backbone.layers.1.mixer.dt_proj.bias'))].map((b) => Math.log1p(Math.exp(b)));
    expect(Math.min(...dt)).toBeGreaterThanOrEqual(0.001 * 0.999);
    expect(Math.max(...dt)).toBeLessThanOrEqual(0.1 * 1.001);
    const meanLog = dt.reduce((s, v) => s + Math.log(v), 0) / dt.length;
    expect(meanLog).toBeCloseTo((Math.log(0.001) + Math.log(0.1)) / 2, 0);
    const bound = (data: Float32Array) => Math.max(...data.map(Math.abs));
    expect(bound(await get('backbone.layers.0.mixer.dt_proj.weight'))).toBeLessThanOrEqual(config.dtRank ** -0.5);
    const outBound = 1 / Math.sqrt(config.dInner) / Math.sqrt(config.nLayer);
    const out = await get('backbone.layers.3.mixer.out_proj.weight');
    expect(bound(out)).toBeLessThanOrEqual(outBound);
    expect(bound(out)).toBeGreaterThan(0.95 * outBound);
    const emb = await get('backbone.embeddings.weight');
    const std = Math.sqrt(emb.reduce((s, v) => s + v * v, 0) / emb.length);
    expect(std).toBeGreaterThan(0.018);
    expect(std).toBeLessThan(0.022);
    const again = MambaLM.create(config, { seed: 5 });
    const other = MambaLM.create(config, { seed: 6 });
    const name = 'backbone.layers.0.mixer.in_proj.weight';
    expect(await again.namedParameters().get(name)!.value.data()).toEqual(await get(name));
    expect(await other.namedParameters().get(name)!.value.data()).not.toEqual(await get(name));
    for (const m of [model, again, other]) m.dispose();
  });

  it('trains: AdamW steps on a repeated sequence lower the loss, without leaking', async () => {
    const model = MambaLM.create({ dModel: 32, nLayer: 2, vocabSize: 16, dState: 8 }, { seed: 2 });
    const optimizer = new AdamW(model, { lr: 1e-2 });
    const ids = tensor(Int32Array.from({ length: 2 * 12 }, (_, i) => (i * 5) % 16), [2, 12], 'int32');
    const losses: number[] = [];
    let live = 0;
    for (let step = 0; step < 15; step++) {
      const { loss, grads } = valueAndGradsOf(model, () => model.loss(ids));
      optimizer.step(grads);
      losses.push((await loss.data())[0]);
      loss.dispose();
      for (const g of grads.values()) g.dispose();
      if (step === 1) live = memory().liveTensors;
    }
    expect(memory().liveTensors).toBe(live);
    expect(losses[14]).toBeLessThan(losses[0] * 0.5);
    ids.dispose();
    model.dispose();
  });
});
