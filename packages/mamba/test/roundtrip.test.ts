import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeEntry, parseSafetensors } from '@ssmjs/core';
import { MambaLM } from '@ssmjs/mamba';
import { describe, expect, it } from 'vitest';
import { fixtureDir, idsTensor, loadExpected, maxAbsDiff } from './helpers';

// fixtures/roundtrip is a model made and saved here (scripts/export-roundtrip.ts), the folder that
// tooling/fixtures/check_roundtrip.py opens with transformers. These checks keep it loadable and in
// step with the code that wrote it.
describe('the round-trip checkpoint', () => {
  const expected = loadExpected('roundtrip');

  it('loads and reproduces the logits and greedy tokens recorded when it was saved', async () => {
    const model = await MambaLM.fromPretrained(fixtureDir('roundtrip'));
    const ids = idsTensor(expected.get('input_ids')!);
    const logits = model.forward(ids);
    expect(maxAbsDiff(await logits.data(), expected.get('logits')!.data)).toBeLessThanOrEqual(1e-6);
    const prompt = expected.get('prompt_ids')!;
    const [batch, L] = prompt.shape;
    const prompts = Array.from({ length: batch }, (_, b) => Array.from(prompt.data.subarray(b * L, (b + 1) * L)));
    const greedy = await model.generate(prompts, { maxNewTokens: expected.get('greedy')!.shape[1] - L, temperature: 0 });
    expect(greedy.flat()).toEqual(Array.from(expected.get('greedy')!.data));
    ids.dispose();
    logits.dispose();
    model.dispose();
  });

  it('gives the logits, loss and greedy tokens transformers gave for it on the GPU machine', async () => {
    // transformers.safetensors: MambaForCausalLM.from_pretrained of this folder, made by
    // tooling/fixtures/check_roundtrip.py (transformers 5.17, torch 2.11; see docs/benchmarks.md).
    const bytes = new Uint8Array(readFileSync(join(fixtureDir('roundtrip'), 'transformers.safetensors')));
    const theirs = new Map(Object.entries(parseSafetensors(bytes).entries).map(([k, e]) => [k, decodeEntry(k, e)]));
    const model = await MambaLM.fromPretrained(fixtureDir('roundtrip'));
    const ids = idsTensor(expected.get('input_ids')!);
    const logits = model.forward(ids);
    expect(maxAbsDiff(await logits.data(), theirs.get('logits')!.data)).toBeLessThanOrEqual(1e-5);
    expect(Array.from(expected.get('greedy')!.data)).toEqual(Array.from(theirs.get('greedy')!.data));
    ids.dispose();
    logits.dispose();
    model.dispose();
  });

  it('its config.json types every float field as a float, as transformers 5 requires', () => {
    const text = readFileSync(join(fixtureDir('roundtrip'), 'config.json'), 'utf8');
    for (const key of ['layer_norm_epsilon', 'initializer_range', 'time_step_min', 'time_step_max', 'time_step_scale', 'time_step_floor']) {
      expect(text.match(new RegExp(`"${key}": ([^,\\n]+)`))?.[1], key).toMatch(/[.eE]/);
    }
  });
});
