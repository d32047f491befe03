// Consumer script, run with plain Node from a project that installed the packed tarballs:
// load a checkpoint, generate greedily, take one AdamW step. Prints one JSON line for the test to check.
// Usage: node node-esm.mjs <checkpoint dir> <expected.safetensors> <backend>
import { AdamW, getBackend, setBackend, valueAndGradsOf } from '@ssmjs/core';
import { readSafetensorsFile } from '@ssmjs/core/node';
import { MambaLM } from '@ssmjs/mamba';

const [checkpoint, expectedFile, backend] = process.argv.slice(2);
await setBackend(backend);
const model = await MambaLM.fromPretrained(checkpoint);
const expected = await readSafetensorsFile(expectedFile);

const promptIds = expected.prompt_ids;
const flat = Array.from(await promptIds.data());
const prompt = [flat.slice(0, promptIds.shape[1]), flat.slice(promptIds.shape[1])];
const generated = await model.generate(prompt, { maxNewTokens: 10, temperature: 0 });

const batch = expected.input_ids;
const optimizer = new AdamW(model, { lr: 1e-2 });
const { loss, grads } = valueAndGradsOf(model, () => model.loss(batch));
optimizer.step(grads);
const lossAfter = model.loss(batch);

console.log(JSON.stringify({
  format: typeof require === 'undefined' ? 'esm' : 'cjs',
  backend: getBackend(),
  generated,
  loss: (await loss.data())[0],
  lossAfterStep: (await lossAfter.data())[0],
}));
