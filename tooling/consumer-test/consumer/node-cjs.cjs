// The CommonJS twin of node-esm.mjs: the same steps through require(), so the packages' .cjs builds
// (and their wasm lookup without import.meta) are exercised. Prints one JSON line.
// Usage: node node-cjs.cjs <checkpoint dir> <expected.safetensors> <backend>
const { AdamW, getBackend, setBackend, valueAndGradsOf } = require('@ssmjs/core');
const { readSafetensorsFile } = require('@ssmjs/core/node');
const { MambaLM } = require('@ssmjs/mamba');

async function main() {
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
    format: typeof require === 'function' && typeof module === 'object' ? 'cjs' : 'esm',
    backend: getBackend(),
    generated,
    loss: (await loss.data())[0],
    lossAfterStep: (await lossAfter.data())[0],
  }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
