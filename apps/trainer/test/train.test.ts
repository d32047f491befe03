import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MambaLM } from '@ssmjs/mamba';
import { quietReporter } from '../src/reporter';
import { train, type TrainOptions } from '../src/train';

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
});

/** A reporter that sends SIGINT to the process after n steps, as Ctrl-C would. */
function stopAfter(n: number) {
  const r = quietReporter();
  return { ...r, step: (info: { step: number }) => void (info.step === n && process.emit('SIGINT')) };
}
