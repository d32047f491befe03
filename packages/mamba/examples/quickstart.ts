// The README's example. Run from packages/mamba: node scripts/run-ts.mjs examples/quickstart.ts
import { AdamW, setBackend, tensor, valueAndGradsOf } from '@ssmjs/core';
import { MambaLM } from '@ssmjs/mamba';

await setBackend('wasm'); // or 'webgpu', 'cpu', 'auto'

// Load a Hugging Face checkpoint folder (config.json + model.safetensors); a URL or bytes work too.
const model = await MambaLM.fromPretrained('test/fixtures/small');
console.log(model.config.dModel, model.config.nLayer, model.parameterCount()); // 64 3 …

// Generate: greedy, then sampled (seeded, so repeatable).
const greedy = await model.generate([[1, 2, 3, 4]], { maxNewTokens: 8, temperature: 0 });
console.log(greedy[0]);
for await (const [token] of model.stream([1, 2, 3, 4], { maxNewTokens: 5, temperature: 0.8, topP: 0.9, seed: 7 })) {
  console.log('next token', token);
}

// One training step: the loss is the usual next-token cross-entropy.
const batch = tensor(Int32Array.from({ length: 2 * 16 }, (_, i) => (i * 7) % 256), [2, 16], 'int32');
const optimizer = new AdamW(model, { lr: 1e-3 });
const { loss, grads } = valueAndGradsOf(model, () => model.loss(batch));
optimizer.step(grads);
console.log('loss', (await loss.data())[0]);
loss.dispose();
for (const g of grads.values()) g.dispose();

// Save in the Hugging Face format: transformers' MambaForCausalLM.from_pretrained opens the folder.
await model.save('/tmp/ssmjs-mamba-quickstart');
model.dispose();
