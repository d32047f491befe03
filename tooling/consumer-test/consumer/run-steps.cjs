// The consumer's steps, shared by node-esm.mjs and node-cjs.cjs: each entry loads the packages its own way
// (import or require, so each package build is exercised) and hands them here with the module format it
// detected. Loads a checkpoint, generates greedily, takes one AdamW step; prints one JSON line for the test.
module.exports = async function runSteps({ core, coreNode, mamba }, format, [checkpoint, expectedFile, backend]) {
  const { AdamW, getBackend, setBackend, valueAndGradsOf } = core;
  await setBackend(backend);
  const model = await mamba.MambaLM.fromPretrained(checkpoint);
  const expected = await coreNode.readSafetensorsFile(expectedFile);

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
    format,
    backend: getBackend(),
    generated,
    loss: (await loss.data())[0],
    lossAfterStep: (await lossAfter.data())[0],
  }));
};
