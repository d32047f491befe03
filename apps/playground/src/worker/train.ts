/**
 * Live training on the Mamba paper's Selective Copying task: a small Mamba and the same block with an LTI
 * (S4D) mixer from @ssmjs/s4 in place of the selective scan, fed the same batches.
 */
import { AdamW, argmax, clipGradNorm, crossEntropy, dispose, noGrad, reshape, tensor, tidy, valueAndGradsOf, type Module, type Tensor } from '@ssmjs/core';
import { IGNORE_INDEX, selectiveCopying, syntheticAccuracy, type SyntheticBatch } from '@ssmjs/eval';
import { MambaLM } from '@ssmjs/mamba';
import { LtiMixer } from '@ssmjs/s4';
import type { TaskExample, TrainedModelName, TrainPoint, TrainSettings } from '../protocol';

/** Selective Copying's vocabulary in the paper: noise 0, data 1…14, marker 15. */
export const TASK_VOCAB = 16;

export interface LiveModel {
  name: TrainedModelName;
  description: string;
  model: MambaLM;
  optimizer: AdamW;
  parameters: number;
}

/**
 * The requested models, both MambaLM: the selective mixer, or `mixer: 's4d'` (@ssmjs/s4's LtiMixer in the same
 * block: same norms, residuals, embedding and tied head). Both start from the same seed and see the same batches.
 */
export function createLiveModels(s: TrainSettings): LiveModel[] {
  const dState = 16;
  return s.models.map((name): LiveModel => {
    const model = MambaLM.create(
      { dModel: s.dModel, nLayer: s.nLayer, vocabSize: TASK_VOCAB, dState, padVocabSizeMultiple: 8, mixer: name === 'mamba' ? 'mamba' : 's4d' },
      { seed: s.seed },
    );
    return {
      name,
      description:
        name === 'mamba'
          ? `selective scan: d_model ${s.dModel}, ${s.nLayer} layers, N ${dState}`
          : `the same block with @ssmjs/s4's LtiMixer (S4D-Lin kernel, FFT convolution) in place of the selective scan: d_model ${s.dModel}, ${s.nLayer} layers, N ${dState}`,
      model,
      optimizer: new AdamW(model, { lr: s.lr, weightDecay: 0 }),
      parameters: model.parameters().reduce((n, p) => n + p.value.size, 0),
    };
  });
}

/** The LtiMixer of one layer of an S4D-mixer MambaLM, found by its module path (backbone.layers.{i}.mixer). */
export function ltiMixerOf(model: MambaLM, layer: number): LtiMixer {
  let module: Module | undefined = model;
  for (const name of ['backbone', 'layers', String(layer), 'mixer']) module = module?.namedChildren().get(name);
  if (!(module instanceof LtiMixer)) throw new Error(`the model has no LtiMixer at backbone.layers.${layer}.mixer (its mixer is '${model.config.mixer}')`);
  return module;
}

/** Mean cross-entropy over the asked positions (the markers); every other target is IGNORE_INDEX. */
function taskLoss(model: MambaLM, ids: Tensor, targets: Tensor, b: SyntheticBatch): Tensor {
  return crossEntropy(reshape(model.forward(ids), [b.batch * b.length, TASK_VOCAB]), targets, { ignoreIndex: IGNORE_INDEX });
}

/** One AdamW step on a batch; returns the loss before the step. */
export async function trainStep(m: LiveModel, b: SyntheticBatch): Promise<number> {
  const ids = tensor(b.inputs, [b.batch, b.length], 'int32');
  const targets = tensor(b.targets, [b.batch * b.length], 'int32');
  const { loss, grads } = valueAndGradsOf(m.model, () => tidy(() => taskLoss(m.model, ids, targets, b)));
  try {
    const value = (await loss.data())[0];
    const norm = clipGradNorm(grads, 1);
    m.optimizer.step(grads);
    norm.dispose();
    return value;
  } finally {
    dispose([ids, targets, loss, grads]);
  }
}

/**
 * Token accuracy at the marker positions of a held-out batch (argmax of the logits), and the first sequence's
 * answers beside what it asks.
 */
export async function heldOutAccuracy(m: LiveModel, b: SyntheticBatch): Promise<{ accuracy: number; example: TaskExample }> {
  const predicted = noGrad(() => tidy(() => argmax(m.model.forward(tensor(b.inputs, [b.batch, b.length], 'int32')), 2)));
  try {
    const ids = Int32Array.from(await predicted.data());
    const asked = Array.from({ length: b.length }, (_, t) => t).filter((t) => b.targets[t] !== IGNORE_INDEX);
    return {
      accuracy: syntheticAccuracy(ids, b).tokenAccuracy,
      example: { inputs: Array.from(b.inputs.subarray(0, b.length)), expected: asked.map((t) => b.targets[t]), predicted: asked.map((t) => ids[t]) },
    };
  } finally {
    predicted.dispose();
  }
}

/** The batches both models see: training batches by step, and one fixed held-out batch. */
export function taskBatches(s: TrainSettings): { train: (step: number) => SyntheticBatch; heldOut: SyntheticBatch } {
  const make = (batch: number, seed: number) => selectiveCopying({ batch, seqLen: s.seqLen, numTokens: s.numTokens, vocabSize: TASK_VOCAB, seed });
  return { train: (step) => make(s.batch, s.seed * 1_000_003 + step + 1), heldOut: make(32, 987_654_321 + s.seed) };
}

/**
 * Steps the models in turn until `shouldStop()` (checked between steps) or maxSteps; `report` gets each
 * step's points. `pause` lets the worker take messages (stop, generate) between steps.
 */
export async function trainSideBySide(
  models: LiveModel[],
  s: TrainSettings,
  report: (points: TrainPoint[]) => void,
  shouldStop: () => boolean,
  pause: () => Promise<void>,
): Promise<number> {
  const data = taskBatches(s);
  let step = 0;
  while (!shouldStop() && (s.maxSteps === 0 || step < s.maxSteps)) {
    const batch = data.train(step);
    step++;
    const points: TrainPoint[] = [];
    for (const m of models) {
      const t0 = performance.now();
      const loss = await trainStep(m, batch);
      const evaluate = step === 1 || step % s.evalEvery === 0;
      const held = evaluate ? await heldOutAccuracy(m, data.heldOut) : null;
      points.push({ model: m.name, step, loss, accuracy: held?.accuracy ?? null, example: held?.example ?? null, stepMs: performance.now() - t0 });
      await pause();
      if (shouldStop()) break;
    }
    report(points);
  }
  return step;
}
