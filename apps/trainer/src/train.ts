import { appendFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  AdamW, clipGradNorm, configureWasm, crossEntropy, dispose, Generator, memory, noGrad, reshape, setBackend, tensor, tidy,
  valueAndGradsOf, warmupCosine,
} from '@ssmjs/core';
import { loadWasmKernels } from '@ssmjs/selective-scan';
import { IGNORE_INDEX, inductionHeads, selectiveCopying, associativeRecall, type SyntheticBatch } from '@ssmjs/eval';
import { MambaConfig, MambaLM } from '@ssmjs/mamba';
import type { TextTokenizer } from '@ssmjs/tokenizer';
import { concatTokens, evaluationWindows, TokenBatcher } from './batches';
import { findCheckpoint, loadOptimizerState, readTrainerState, saveCheckpoint, type TrainerState } from './checkpoint';
import { brownCorpus, splitDocuments, textDocuments } from './data';
import { lineChartSvg } from './plot';
import { buildTokenizer, END_OF_TEXT, loadTokenizerFile, type TokenizerChoice } from './tokenizers';

export type SyntheticTask = 'selective-copying' | 'induction-heads' | 'mqar';
/** The block's sequence mixer: Mamba's selective scan (S6), or an LTI one (S4D diagonal, S4 DPLR) in the same block. */
export type Architecture = 'mamba' | 's4' | 's4d';

export interface TrainOptions {
  /** 'brown', a text file or directory, or a synthetic task. */
  data: string;
  task?: SyntheticTask;
  out: string;
  tokenizer: TokenizerChoice;
  bpeVocabSize: number;
  dModel: number;
  nLayer: number;
  dState: number;
  expand: number;
  dConv: number;
  /** Mixer of each block (default 'mamba'). */
  arch?: Architecture;
  /** Multiply the mixer's output by SiLU(z) (default true); false is the paper's "no gate" ablation. */
  gate?: boolean;
  steps: number;
  batchSize: number;
  seqLen: number;
  lr: number;
  minLr: number;
  warmupSteps: number;
  weightDecay: number;
  clip: number;
  evalEvery: number;
  evalWindows: number;
  saveEvery: number;
  backend: string;
  /** wasm backend: threads for big kernels (1 = the main thread only); default: the backend's choice. */
  threads?: number;
  seed: number;
  resume: boolean;
  /** Stop (and save) after this many minutes even if steps remain. */
  maxMinutes?: number;
  samples: number;
  sampleLength: number;
  /** Synthetic task sizes. */
  taskLength: number;
  taskTokens: number;
}

/** What the command line shows while training; tests pass a quiet one. */
export interface TrainReporter {
  start(total: number, startStep: number): void;
  step(info: { step: number; loss: number; tokensPerSecond: number; lr: number }): void;
  log(line: string): void;
  stop(): void;
}

export class TrainingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrainingError';
  }
}

/** Options that must match to continue a run (sizes and data); others may change on resume. */
const STRUCTURAL = ['data', 'task', 'tokenizer', 'dModel', 'nLayer', 'dState', 'expand', 'dConv', 'arch', 'gate', 'batchSize', 'seqLen', 'seed', 'steps'] as const;
/** Values of options that older checkpoints did not record. */
const STRUCTURAL_DEFAULTS: Partial<Record<(typeof STRUCTURAL)[number], unknown>> = { arch: 'mamba', gate: true };

interface Dataset {
  tokenizer: TextTokenizer | null;
  vocabSize: number;
  nextBatch(): { inputs: Int32Array; targets: Int32Array; batch: number; length: number };
  generatorState(): number[];
  setGeneratorState(state: number[]): void;
  /** Held-out evaluation: bits per byte for text, accuracy for synthetic tasks (plus the loss). */
  evaluate(model: MambaLM): Promise<{ name: string; value: number; extra?: Record<string, number> }>;
}

/** Trains a model as the options say; returns the final held-out metric. */
export async function train(options: TrainOptions, reporter: TrainReporter): Promise<{ evalName: string; evalValue: number; step: number }> {
  if (options.threads !== undefined) configureWasm({ threads: options.threads });
  const backend = await setBackend(options.backend as 'auto');
  // The scan's SIMD kernels: without them the wasm backend runs the cpu scan (~15× slower per scan).
  if (backend === 'wasm') await loadWasmKernels();
  reporter.log(`backend: ${backend}`);
  const checkpointDir = join(options.out, 'checkpoint');
  await mkdir(options.out, { recursive: true });

  const resumeFrom = options.resume ? await findCheckpoint(checkpointDir) : null;
  if (options.resume && !resumeFrom) throw new TrainingError(`--resume: no checkpoint in ${checkpointDir}`);
  let state: TrainerState | null = null;
  if (resumeFrom) {
    state = await readTrainerState(resumeFrom);
    const was = (k: (typeof STRUCTURAL)[number]) => JSON.stringify(state!.options[k] ?? STRUCTURAL_DEFAULTS[k]);
    const now = (k: (typeof STRUCTURAL)[number]) => JSON.stringify(options[k] ?? STRUCTURAL_DEFAULTS[k]);
    const different = STRUCTURAL.filter((k) => was(k) !== now(k));
    if (different.length) {
      throw new TrainingError(
        `--resume: the checkpoint in ${resumeFrom} was trained with other settings: ${different.map((k) => `${k} ${was(k)} (now ${now(k)})`).join(', ')}`,
      );
    }
  }

  const data = await loadDataset(options, resumeFrom);
  const config = new MambaConfig({
    dModel: options.dModel,
    nLayer: options.nLayer,
    vocabSize: data.vocabSize,
    dState: options.dState,
    expand: options.expand,
    dConv: options.dConv,
    padVocabSizeMultiple: 8,
    mixer: options.arch ?? 'mamba',
    gated: options.gate ?? true,
    // S4's kernel is defined up to a length: the longest training sequence.
    lMax: options.arch === 's4' ? trainingLength(options) : undefined,
  });
  const model = resumeFrom ? await MambaLM.fromPretrained(resumeFrom) : MambaLM.create(config, { seed: options.seed });
  const optimizer = new AdamW(model, { lr: options.lr, weightDecay: options.weightDecay });
  if (resumeFrom) await loadOptimizerState(resumeFrom, optimizer);
  const schedule = warmupCosine({ lr: options.lr, minLr: options.minLr, warmupSteps: Math.min(options.warmupSteps, options.steps), totalSteps: options.steps });
  const nParams = model.parameters().reduce((n, p) => n + p.value.size, 0);
  const archName = { mamba: 'Mamba (S6)', s4d: 'Mamba block with S4D', s4: 'Mamba block with S4' }[options.arch ?? 'mamba'];
  reporter.log(`model: ${archName}${options.gate === false ? ' without gate' : ''}, d_model ${options.dModel}, ${options.nLayer} layers, d_state ${options.dState}, vocab ${config.vocabSize}: ${(nParams / 1e6).toFixed(2)} M parameters`);

  let step = state?.step ?? 0;
  let tokensSeen = state?.tokensSeen ?? 0;
  let elapsed = state?.elapsedSeconds ?? 0;
  const trainLoss: [number, number][] = state?.trainLoss ?? [];
  const evalLoss: [number, number][] = state?.evalLoss ?? [];
  if (state) {
    data.setGeneratorState(state.dataGenerator);
    reporter.log(`resumed from ${resumeFrom} at step ${step}`);
  } else {
    await rm(join(options.out, 'log.jsonl'), { force: true });
  }

  const snapshot = (): TrainerState => ({
    step,
    dataGenerator: data.generatorState(),
    tokensSeen,
    elapsedSeconds: elapsed,
    options: { ...options },
    trainLoss,
    evalLoss,
  });
  const save = async () => {
    await saveCheckpoint(checkpointDir, { model, tokenizer: data.tokenizer, optimizer, state: snapshot() });
    await writeFile(
      join(options.out, 'loss.svg'),
      lineChartSvg(
        [
          { name: 'train loss', points: trainLoss },
          { name: 'held-out', points: evalLoss },
        ],
        { title: `ssm train — ${options.task ?? options.data}`, xLabel: 'step', yLabel: 'loss (nats/token)' },
      ),
    );
  };
  const logJson = (record: Record<string, unknown>) => appendFile(join(options.out, 'log.jsonl'), `${JSON.stringify(record)}\n`);

  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  let lastEval = { name: 'loss', value: Number.NaN } as { name: string; value: number; extra?: Record<string, number> };
  const deadline = options.maxMinutes ? Date.now() + options.maxMinutes * 60_000 : Infinity;
  reporter.start(options.steps, step);
  try {
    while (step < options.steps && !interrupted && Date.now() < deadline) {
      const t0 = performance.now();
      const b = data.nextBatch();
      optimizer.lr = schedule(step);
      const ids = tensor(b.inputs, [b.batch, b.length], 'int32');
      const targets = tensor(b.targets, [b.batch * b.length], 'int32');
      const { loss, grads } = valueAndGradsOf(model, () =>
        tidy(() => crossEntropy(reshape(model.forward(ids), [b.batch * b.length, model.config.vocabSize]), targets, { ignoreIndex: IGNORE_INDEX })),
      );
      const lossValue = (await loss.data())[0];
      if (!Number.isFinite(lossValue)) {
        dispose([ids, targets, loss, grads]);
        throw new TrainingError(
          `the loss became ${lossValue} at step ${step + 1}; stopped without saving this step. The last good checkpoint (step ${state?.step ?? 'none'} or the latest --save-every) is in ${checkpointDir}; try a lower --lr or --clip`,
        );
      }
      const norm = clipGradNorm(grads, options.clip);
      optimizer.step(grads);
      dispose([ids, targets, loss, grads, norm]);
      step++;
      const seconds = (performance.now() - t0) / 1000;
      elapsed += seconds;
      const tokens = b.batch * b.length;
      tokensSeen += tokens;
      trainLoss.push([step, lossValue]);
      reporter.step({ step, loss: lossValue, tokensPerSecond: tokens / seconds, lr: optimizer.lr });
      await logJson({ step, loss: lossValue, lr: optimizer.lr, tokensPerSecond: tokens / seconds, elapsed, liveTensors: memory().liveTensors });
      if (step % options.evalEvery === 0 || step === options.steps) {
        lastEval = await data.evaluate(model);
        evalLoss.push([step, lastEval.extra?.loss ?? lastEval.value]);
        await logJson({ step, eval: lastEval.name, value: lastEval.value, ...lastEval.extra });
        reporter.log(`step ${step}: held-out ${lastEval.name} ${lastEval.value.toFixed(4)}`);
      }
      if (step % options.saveEvery === 0) await save();
    }
  } finally {
    reporter.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (Number.isNaN(lastEval.value) && step > 0) {
    lastEval = await data.evaluate(model);
    evalLoss.push([step, lastEval.extra?.loss ?? lastEval.value]);
  }
  await save();
  reporter.log(`${interrupted ? 'interrupted: ' : ''}saved step ${step} to ${checkpointDir} (plot: ${join(options.out, 'loss.svg')})`);
  if (interrupted) reporter.log(`continue with the same command and --resume`);

  if (data.tokenizer && options.samples > 0) {
    const prompts = ['The ', 'It was ', 'In the '].slice(0, options.samples);
    for (const [i, prompt] of prompts.entries()) {
      const ids = data.tokenizer.encode(prompt);
      // A sampling seed per prompt: one seed for all would draw the same random stream for each.
      const [out] = await model.generate([ids], { maxNewTokens: options.sampleLength, temperature: 0.8, topK: 40, seed: options.seed + i });
      reporter.log(`sample: ${JSON.stringify(data.tokenizer.decode(out))}`);
    }
  }
  model.dispose();
  optimizer.dispose();
  return { evalName: lastEval.name, evalValue: lastEval.value, step };
}

/** Tokens per training sequence. */
function trainingLength(options: TrainOptions): number {
  if (options.task === 'selective-copying') return options.taskLength + options.taskTokens;
  if (options.task === 'induction-heads') return options.taskLength;
  if (options.task === 'mqar') return 4 * options.taskTokens;
  return options.seqLen;
}

async function loadDataset(options: TrainOptions, resumeFrom: string | null): Promise<Dataset> {
  if (options.task) return syntheticDataset(options);
  const docs = options.data === 'brown' ? await brownCorpus() : await textDocuments(options.data);
  const { train, heldOut } = splitDocuments(docs);
  const tokenizer = resumeFrom ? await loadTokenizerFile(join(resumeFrom, 'tokenizer.json')) : await buildTokenizer(options.tokenizer, train.map((d) => d.text), options.bpeVocabSize);
  const eot = tokenizer.tokenToId(END_OF_TEXT);
  const trainTokens = concatTokens(train.map((d) => tokenizer.encode(d.text)), eot);
  const heldOutTokens = concatTokens(heldOut.map((d) => tokenizer.encode(d.text)), eot);
  const batcher = new TokenBatcher(trainTokens, options.batchSize, options.seqLen, options.seed);
  const windows = evaluationWindows(heldOutTokens, options.seqLen, options.evalWindows);
  if (windows.length === 0) throw new TrainingError(`the held-out text has fewer than ${options.seqLen + 1} tokens; use a shorter --seq-len or more data`);
  return {
    tokenizer,
    vocabSize: tokenizer.vocabSize,
    nextBatch() {
      const rows = batcher.next();
      const L = options.seqLen;
      const inputs = new Int32Array(options.batchSize * L);
      const targets = new Int32Array(options.batchSize * L);
      for (let b = 0; b < options.batchSize; b++) {
        inputs.set(rows.subarray(b * (L + 1), b * (L + 1) + L), b * L);
        targets.set(rows.subarray(b * (L + 1) + 1, (b + 1) * (L + 1)), b * L);
      }
      return { inputs, targets, batch: options.batchSize, length: L };
    },
    generatorState: () => batcher.generator.state(),
    setGeneratorState: (s) => batcher.generator.setState(s),
    async evaluate(model) {
      // Bits per byte: summed negative log-likelihood over the bytes of the predicted text.
      let nll = 0;
      let tokens = 0;
      let bytes = 0;
      const encoder = new TextEncoder();
      for (const w of windows) {
        const L = w.length - 1;
        const value = noGrad(() =>
          tidy(() => {
            const ids = tensor(w.subarray(0, L), [1, L], 'int32');
            const targets = tensor(w.subarray(1), [L], 'int32');
            return crossEntropy(reshape(model.forward(ids), [L, model.config.vocabSize]), targets);
          }),
        );
        nll += (await value.data())[0] * L;
        value.dispose();
        tokens += L;
        bytes += encoder.encode(tokenizer.decode(w.subarray(1))).length;
      }
      return { name: 'bits/byte', value: nll / (bytes * Math.LN2), extra: { loss: nll / tokens, tokens, bytes } };
    },
  };
}

function syntheticDataset(options: TrainOptions): Dataset {
  const task = options.task!;
  const make = (batch: number, seed: number, length = options.taskLength): SyntheticBatch => {
    if (task === 'selective-copying') return selectiveCopying({ batch, seqLen: length, numTokens: options.taskTokens, vocabSize: 16, seed });
    if (task === 'induction-heads') return inductionHeads({ batch, length, vocabSize: 16, seed });
    return associativeRecall({ batch, numPairs: options.taskTokens, numQueries: options.taskTokens, vocabSize: 64, seed });
  };
  const vocabSize = task === 'mqar' ? 64 : 16;
  const seeds = new Generator(options.seed);
  const heldOut = make(64, 0x5eed ^ options.seed);
  return {
    tokenizer: null,
    vocabSize,
    nextBatch() {
      const b = make(options.batchSize, seeds.nextUint32());
      return { inputs: b.inputs, targets: b.targets, batch: b.batch, length: b.length };
    },
    generatorState: () => seeds.state(),
    setGeneratorState: (s) => seeds.setState(s),
    evaluate: (model) => syntheticAccuracyOf(model, heldOut),
  };
}

/** Accuracy of argmax predictions at the asked positions (and the loss there). */
export async function syntheticAccuracyOf(model: MambaLM, b: SyntheticBatch): Promise<{ name: string; value: number; extra: Record<string, number> }> {
  const V = model.config.vocabSize;
  const { logits, loss } = noGrad(() =>
    tidy(() => {
      const out = reshape(model.forward(tensor(b.inputs, [b.batch, b.length], 'int32')), [b.batch * b.length, V]);
      return { logits: out, loss: crossEntropy(out, tensor(b.targets, [b.batch * b.length], 'int32'), { ignoreIndex: IGNORE_INDEX }) };
    }),
  );
  const values = (await logits.data()) as Float32Array;
  const lossValue = (await loss.data())[0];
  dispose([logits, loss]);
  let asked = 0;
  let right = 0;
  for (let i = 0; i < b.batch * b.length; i++) {
    const target = b.targets[i];
    if (target === IGNORE_INDEX) continue;
    asked++;
    let best = 0;
    for (let v = 1; v < b.vocabSize; v++) if (values[i * V + v] > values[i * V + best]) best = v;
    if (best === target) right++;
  }
  return { name: 'accuracy', value: right / asked, extra: { loss: lossValue } };
}
