// Type-checked (never run) by `tsc --noEmit` in the consumer project, once under module NodeNext and once
// under moduleResolution Bundler: every package's entry resolves to its published .d.ts and the types fit.
import { AdamW, randn, setBackend, valueAndGradsOf, type BackendName, type Tensor } from '@ssmjs/core';
import { writeSafetensorsFile } from '@ssmjs/core/node';
import { hippo, s4dInit } from '@ssmjs/hippo';
import { MambaConfig, MambaLM, type GenerateOptions } from '@ssmjs/mamba';
import { S4DLayer } from '@ssmjs/s4';
import { selectiveScan, type SelectiveScanArgs } from '@ssmjs/selective-scan';
import { ByteTokenizer, Tokenizer } from '@ssmjs/tokenizer';
import { perplexity } from '@ssmjs/eval';
import { train } from '@ssmjs/trainer';

export async function consumer(backend: BackendName, tokenizerJson: string): Promise<number[][]> {
  await setBackend(backend);
  const config = new MambaConfig({ dModel: 16, nLayer: 2, vocabSize: 256 });
  const model: MambaLM = MambaLM.create(config, { seed: 0 });
  const bytes = new ByteTokenizer();
  const bpe: Tokenizer = Tokenizer.fromJSON(tokenizerJson);
  const options: GenerateOptions = { maxNewTokens: 4, temperature: 0 };
  const ids = await model.generate([bytes.encode('hi'), bpe.encode('hi')], options);

  const optimizer = new AdamW(model, { lr: 1e-3 });
  const { loss, grads } = valueAndGradsOf(model, () => model.loss(randn([1, 4]) as Tensor));
  optimizer.step(grads);
  await writeSafetensorsFile('/tmp/x.safetensors', { loss });

  const args: SelectiveScanArgs = { u: randn([1, 2, 3]), delta: randn([1, 2, 3]), A: randn([2, 4]), B: randn([1, 4, 3]), C: randn([1, 4, 3]) };
  const y: Tensor = selectiveScan(args).y;
  const layer = new S4DLayer(4, { dState: 8 });
  layer.forward(y);
  const { A } = hippo('legs', 8);
  s4dInit('lin', 8);
  void A;
  void perplexity;
  void train;
  return ids;
}
