import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { setBackend } from '@ssmjs/core';
import { inductionHeads, selectiveCopying } from '@ssmjs/eval';
import { MambaLM } from '@ssmjs/mamba';
import { chunkedSyntheticAccuracy } from '../src/commands/eval';
import { quietReporter } from '../src/reporter';
import { syntheticAccuracyOf, train, type TrainOptions } from '../src/train';

const corpus = Array.from({ length: 40 }, (_, i) => `Document ${i}. The quick brown fox jumps over the lazy dog ${i % 7} times, and the cat watches.\n`).join('');

async function options(over: Partial<TrainOptions> = {}): Promise<TrainOptions> {
  const dir = await mkdtemp(join(tmpdir(), 'ssm-train-'));
  const dataDir = join(dir, 'data');
  await import('node:fs/promises').then((fs) => fs.mkdir(dataDir));
  for (let i = 0; i < 20; i++) await writeFile(join(dataDir, `doc${String(i).padStart(2, '0')}.txt`), corpus.slice(i * 150, i * 150 + 400));
  return {
    data: dataDir, out: join(dir, 'run'), tokenizer: 'byte', bpeVocabSize: 300, dModel: 16, nLayer: 2, dState: 4, expand: 2, dConv: 4,
    steps: 12, batchSize: 2, seqLen: 32, lr: 1e-2, minLr: 1e-3, warmupSteps: 2, weightDecay: 0.1, clip: 1, evalEvery: 6, evalWindows: 2,
    saveEvery: 6, backend: 'cpu', seed: 3, resume: false, samples: 0, sampleLength: 8, taskLength: 24, taskTokens: 4, ...over,
  };
}

async function losses(out: string): Promise<number[]> {
  const lines = (await readFile(join(out, 'log.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { loss?: number; lr?: number });
  return lines.filter((l) => l.lr !== undefined).map((l) => l.loss!);
}

describe('ssm train', () => {
  it('trains on text, lowers the loss, and writes a checkpoint transformers-style', async () => {
    const o = await options({ steps: 30, evalEvery: 30, saveEvery: 30 });
    const r = quietReporter();
    const result = await train(o, r);
    const l = await losses(o.out);
    expect(l.length).toBe(30);
    expect(l.slice(-5).reduce((a, b) => a + b) / 5).toBeLessThan(l.slice(0, 5).reduce((a, b) => a + b) / 5 - 0.5);
    expect(result.evalName).toBe('bits/byte');
    expect(result.evalValue).toBeGreaterThan(0);
    const ckpt = join(o.out, 'checkpoint');
    const config = JSON.parse(await readFile(join(ckpt, 'config.json'), 'utf8'));
    expect(config.hidden_size).toBe(16);
    const model = await MambaLM.fromPretrained(ckpt);
    expect(model.config.vocabSize).toBe(264); // 256 bytes + <|endoftext|>, padded to 8
    model.dispose();
    expect(await readFile(join(o.out, 'loss.svg'), 'utf8')).toMatch(/^<svg/);
  });

  it('a resumed run continues exactly as an uninterrupted one', async () => {
    const whole = await options();
    await train(whole, quietReporter());
    const split = await options();
    // Same data, different folder: run 6 steps (saved at 6), then resume to 12.
    split.data = whole.data;
    await train({ ...split, steps: 12, maxMinutes: undefined }, stopAfter(6));
    await train({ ...split, resume: true }, quietReporter());
    expect(await losses(split.out)).toEqual(await losses(whole.out));
  });

  it('refuses to resume with other model sizes', async () => {
    const o = await options({ steps: 2, saveEvery: 2, evalEvery: 2 });
    await train(o, quietReporter());
    await expect(train({ ...o, dModel: 32, resume: true }, quietReporter())).rejects.toThrow(/dModel 16 \(now 32\)/);
  });

  it('trains on a synthetic task and reports accuracy', async () => {
    const o = await options({ task: 'induction-heads', steps: 4, evalEvery: 4, saveEvery: 4, taskLength: 16 });
    const result = await train(o, quietReporter());
    expect(result.evalName).toBe('accuracy');
    expect(result.evalValue).toBeGreaterThanOrEqual(0);
  });

  it.each([
    ['s4d', true],
    ['s4', true],
    ['mamba', false],
  ] as const)('--arch %s (gate %s) trains the synthetic task, saves that architecture, and resumes only as it', async (arch, gate) => {
    const o = await options({ task: 'selective-copying', arch, gate, steps: 8, evalEvery: 8, saveEvery: 8, taskLength: 16, taskTokens: 4, lr: 1e-2 });
    await train(o, quietReporter());
    const l = await losses(o.out);
    expect(l.slice(-3).reduce((a, b) => a + b) / 3).toBeLessThan(l.slice(0, 3).reduce((a, b) => a + b) / 3);
    const ckpt = join(o.out, 'checkpoint');
    const config = JSON.parse(await readFile(join(ckpt, 'config.json'), 'utf8'));
    expect(config.mixer).toBe(arch);
    expect(config.gated).toBe(gate);
    if (arch === 's4') expect(config.l_max).toBe(20); // the training length: 16 + 4
    const model = await MambaLM.fromPretrained(ckpt);
    expect(model.config.mixer).toBe(arch);
    model.dispose();
    const other = arch === 'mamba' ? 's4d' : 'mamba';
    await expect(train({ ...o, arch: other, steps: 10, resume: true }, quietReporter())).rejects.toThrow(new RegExp(`arch "${arch}" \\(now "${other}"\\)`));
  });
});

describe('ssm eval on synthetic tasks: chunked prefill', () => {
  it.each([['mamba'], ['s4d']] as const)('%s: accuracy through chunks of 7 equals the parallel path over whole sequences', async (mixer) => {
    await setBackend('cpu');
    const model = MambaLM.create({ dModel: 16, nLayer: 2, vocabSize: 16, dState: 8, padVocabSizeMultiple: 8, mixer }, { seed: 1 });
    for (const batch of [
      selectiveCopying({ batch: 8, seqLen: 24, numTokens: 6, vocabSize: 16, seed: 2 }),
      inductionHeads({ batch: 64, length: 30, vocabSize: 16, seed: 3 }),
    ]) {
      const parallel = await syntheticAccuracyOf(model, batch);
      const chunked = await chunkedSyntheticAccuracy(model, batch, 7);
      expect(chunked.accuracy).toBe(parallel.value);
    }
    model.dispose();
  });
});

/** A reporter that sends SIGINT to the process after n steps, as Ctrl-C would. */
function stopAfter(n: number) {
  const r = quietReporter();
  return { ...r, step: (info: { step: number }) => void (info.step === n && process.emit('SIGINT')) };
}
