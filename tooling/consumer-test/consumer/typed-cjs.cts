// The CommonJS side under NodeNext: `require` resolves the packages' "require" conditions (.d.cts types).
import core = require('@ssmjs/core');
import mamba = require('@ssmjs/mamba');
import coreNode = require('@ssmjs/core/node');

export async function consumerCjs(dir: string): Promise<number> {
  await core.setBackend('cpu');
  const model: mamba.MambaLM = await mamba.MambaLM.fromPretrained(dir);
  const weights: Record<string, core.Tensor> = await coreNode.readSafetensorsFile(`${dir}/model.safetensors`);
  return model.parameterCount() + Object.keys(weights).length;
}
