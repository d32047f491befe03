/**
 * Writes test/fixtures/roundtrip/: a model made and trained here (MambaLM.create + a few AdamW steps),
 * saved with `save`, plus its logits and greedy tokens on fixed ids. tooling/fixtures/check_roundtrip.py
 * then opens the folder with transformers on the GPU machine and compares.
 *
 *   cd packages/mamba && node scripts/run-ts.mjs scripts/export-roundtrip.ts [out-dir]
 */
import { resolve } from 'node:path';
import { AdamW, serializeSafetensors, tensor, valueAndGradsOf } from '@ssmjs/core';
import { writeFileAtomic } from '@ssmjs/core/node';
import { MambaLM } from '../src/index';

const out = `${resolve(process.argv[2] ?? 'test/fixtures/roundtrip')}/`;

// Biases on, a padded vocabulary (60 → 64) and dt_rank "auto" (= 2): every naming and sizing rule is used.
const model = MambaLM.create({ dModel: 32, nLayer: 2, vocabSize: 60, padVocabSizeMultiple: 8, dState: 8, bias: true }, { seed: 2026 });

// A few training steps move every parameter (A_log, D, norms, biases) off its initial value.
const train = tensor(Int32Array.from({ length: 4 * 16 }, (_, i) => (i * 7 + (i >> 4)) % 60), [4, 16], 'int32');
const optimizer = new AdamW(model, { lr: 2e-2 });
for (let step = 0; step < 5; step++) {
  const { loss, grads } = valueAndGradsOf(model, () => model.loss(train));
  optimizer.step(grads);
  console.log(`step ${step} loss ${(await loss.data())[0].toFixed(4)}`);
  loss.dispose();
  for (const g of grads.values()) g.dispose();
}

await model.save(out);

const inputIds = Int32Array.from([3, 14, 15, 9, 26, 5, 35, 8, 59, 2, 7, 1, 8, 28, 18, 28, 45, 0]);
const ids = tensor(inputIds, [2, 9], 'int32');
const logits = model.forward(ids);
const loss = model.loss(ids);
const prompts = [[3, 14, 15, 9], [2, 7, 1, 8]];
const greedy = await model.generate(prompts, { maxNewTokens: 8, temperature: 0 });
await writeFileAtomic(
  `${out}expected.safetensors`,
  serializeSafetensors(
    {
      input_ids: ids,
      logits,
      loss: { dtype: 'float32', shape: [1], data: Float32Array.from(await loss.data()) },
      prompt_ids: { dtype: 'int32', shape: [2, 4], data: Int32Array.from(prompts.flat()) },
      greedy: { dtype: 'int32', shape: [2, 12], data: Int32Array.from(greedy.flat()) },
    },
    { made_by: 'packages/mamba/scripts/export-roundtrip.ts', date: new Date().toISOString() },
  ),
);
console.log(`wrote ${out}: logits ${logits.shape}, greedy ${JSON.stringify(greedy)}`);
