/**
 * Live training on the Mamba paper's Selective Copying task: a small Mamba and the same block with an LTI
 * (S4D) mixer from @ssmjs/s4 in place of the selective scan, fed the same batches, one step each in turn.
 */
import {
  add, AdamW, clipGradNorm, crossEntropy, dispose, Embedding, matmul, Module, ModuleList, noGrad, reshape, RMSNorm, argmax, tensor, tidy,
  valueAndGradsOf, type Tensor,
} from '@ssmjs/core';
import { IGNORE_INDEX, selectiveCopying, syntheticAccuracy, type SyntheticBatch } from '@ssmjs/eval';
import { MambaLM } from '@ssmjs/mamba';
import { LtiMixer } from '@ssmjs/s4';
import type { TrainedModelName, TrainPoint, TrainSettings } from '../protocol';

/** Selective Copying's vocabulary in the paper: noise 0, data 1…14, marker 15. */
export const TASK_VOCAB = 16;

/** What the loop needs of a model: logits for ids, and its parameters (a Module) for the optimizer. */
export interface LogitModel extends Module {
  forward(ids: Tensor): Tensor;
}

/**
 * Embedding → n × (RMSNorm → LtiMixer, plus the residual) → RMSNorm → tied head: MambaLM's layout with the
 * S4D mixer, so the two differ only in the mixer's SSM (input-independent Δ, A, B, C versus selective ones).
 */
export class LtiLM extends Module implements LogitModel {
  readonly embeddings: Embedding;
  readonly norms: ModuleList<RMSNorm>;
  readonly mixers: ModuleList<LtiMixer>;
  readonly normF: RMSNorm;

  constructor(options: { vocabSize: number; dModel: number; nLayer: number; dState: number; seed: number }) {
    super();
    const { vocabSize, dModel, nLayer, dState, seed } = options;
    this.embeddings = this.registerModule('embeddings', new Embedding(vocabSize, dModel, { std: 0.02, seed }));
    this.norms = this.registerModule('norms', new ModuleList(Array.from({ length: nLayer }, () => new RMSNorm(dModel))));
    this.mixers = this.registerModule(
      'mixers',
      new ModuleList(Array.from({ length: nLayer }, (_, i) => new LtiMixer({ dModel, dState, kernel: 's4d', seed: seed + 1 + i }))),
    );
    this.normF = this.registerModule('norm_f', new RMSNorm(dModel));
  }

  forward(ids: Tensor): Tensor {
    return tidy(() => {
      let hidden = this.embeddings.forward(ids);
      for (let i = 0; i < this.mixers.length; i++) hidden = add(hidden, this.mixers.at(i).forward(this.norms.at(i).forward(hidden)));
      return matmul(this.normF.forward(hidden), this.embeddings.weight.value, { transposeB: true });
    });
  }
}

export interface LiveModel {
  name: TrainedModelName;
  description: string;
  model: LogitModel;
  optimizer: AdamW;
  parameters: number;
}

/** The requested models; both start from the same seed and see the same batches. */
export function createLiveModels(s: TrainSettings): LiveModel[] {
  const dState = 16;
  const count = (m: Module) => m.parameters().reduce((n, p) => n + p.value.size, 0);
  return s.models.map((name): LiveModel => {
    if (name === 'mamba') {
      const mamba = MambaLM.create({ dModel: s.dModel, nLayer: s.nLayer, vocabSize: TASK_VOCAB, dState, padVocabSizeMultiple: 8 }, { seed: s.seed });
      return {
        name,
        description: `selective scan: d_model ${s.dModel}, ${s.nLayer} layers, N ${dState}`,
        model: mamba as unknown as LogitModel,
        optimizer: new AdamW(mamba, { lr: s.lr, weightDecay: 0 }),
        parameters: count(mamba),
      };
    }
    const lti = new LtiLM({ vocabSize: TASK_VOCAB, dModel: s.dModel, nLayer: s.nLayer, dState, seed: s.seed });
    return {
      name,
      description: `the same block with @ssmjs/s4's LtiMixer (S4D-Lin kernel, FFT convolution) in place of the selective scan: d_model ${s.dModel}, ${s.nLayer} layers, N ${dState}`,
      model: lti,
      optimizer: new AdamW(lti, { lr: s.lr, weightDecay: 0 }),
      parameters: count(lti),
    };
  });
}

/** Mean cross-entropy over the asked positions (the markers); every other target is IGNORE_INDEX. */
function taskLoss(model: LogitModel, ids: Tensor, targets: Tensor, b: SyntheticBatch): Tensor {
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

/** Token accuracy at the marker positions of a held-out batch (argmax of the logits). */
export async function heldOutAccuracy(m: LiveModel, b: SyntheticBatch): Promise<number> {
  const predicted = noGrad(() => tidy(() => argmax(m.model.forward(tensor(b.inputs, [b.batch, b.length], 'int32')), 2)));
  try {
    return syntheticAccuracy(Int32Array.from(await predicted.data()), b).tokenAccuracy;
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
      const accuracy = evaluate ? await heldOutAccuracy(m, data.heldOut) : null;
      points.push({ model: m.name, step, loss, accuracy, stepMs: performance.now() - t0 });
      await pause();
      if (shouldStop()) break;
    }
    report(points);
  }
  return step;
}
