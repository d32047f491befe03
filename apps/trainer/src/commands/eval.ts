import { readFile, writeFile } from 'node:fs/promises';
import { logSoftmax, memory, noGrad, tensor, tidy } from '@ssmjs/core';
import {
  corpusMetrics, countWords, evaluateLambada, evaluateMultipleChoice, formatResults, inductionHeads, loglikelihoodRolling,
  multipleChoiceTasks, parseJsonl, selectiveCopying, associativeRecall, utf8Bytes, IGNORE_INDEX, type MultipleChoiceTask, type ScoringModel,
  type SyntheticBatch,
} from '@ssmjs/eval';
import type { MambaLM } from '@ssmjs/mamba';
import { brownCorpus, splitDocuments, textDocuments } from '../data';
import { END_OF_TEXT } from '../tokenizers';
import { loadCheckpoint } from './load';

interface EvalFlags {
  checkpoint: string;
  data?: string;
  task?: string;
  taskFile?: string;
  lengths: string;
  chunk: number;
  evalBatch?: number;
  limit?: number;
  maxLength: number;
  json?: string;
  backend: string;
  threads?: number;
}

/** The model as the evaluation package sees it: log-probabilities of the next token. */
export function scoringModel(model: MambaLM, maxLength: number): ScoringModel {
  return {
    vocabSize: model.config.vocabSize,
    maxLength,
    async logProbs(ids, batch, length) {
      const out = noGrad(() => tidy(() => logSoftmax(model.forward(tensor(ids, [batch, length], 'int32')), -1)));
      const values = (await out.data()) as Float32Array;
      out.dispose();
      return values;
    },
  };
}

/**
 * Accuracy at the asked positions of a synthetic batch, run through `prefill` chunk by chunk with one cache:
 * memory stays at one chunk's activations plus the fixed-size state, however long the sequences, and
 * logits are made for every position only in chunks that hold an asked one.
 */
export async function chunkedSyntheticAccuracy(model: MambaLM, b: SyntheticBatch, chunk: number): Promise<{ accuracy: number; /** backend bytes held after each chunk's prefill (cache, weights, logits), the largest */ peakLiveBytes: number }> {
  const V = model.config.vocabSize;
  const cache = model.createCache(b.batch);
  let asked = 0;
  let right = 0;
  let peakLiveBytes = 0;
  try {
    for (let start = 0; start < b.length; start += chunk) {
      const len = Math.min(chunk, b.length - start);
      const ids = new Int32Array(b.batch * len);
      let hasAsked = false;
      for (let r = 0; r < b.batch; r++) {
        const from = r * b.length + start;
        ids.set(b.inputs.subarray(from, from + len), r * len);
        if (!hasAsked) hasAsked = b.targets.subarray(from, from + len).some((t) => t !== IGNORE_INDEX);
      }
      const input = tensor(ids, [b.batch, len], 'int32');
      const { logits } = model.prefill(input, { cache, allPositions: hasAsked });
      input.dispose();
      peakLiveBytes = Math.max(peakLiveBytes, backendBytes());
      if (hasAsked) {
        const values = (await logits.data()) as Float32Array;
        for (let r = 0; r < b.batch; r++) {
          for (let t = 0; t < len; t++) {
            const target = b.targets[r * b.length + start + t];
            if (target === IGNORE_INDEX) continue;
            asked++;
            const row = (r * len + t) * V;
            let best = 0;
            // Only the task's tokens compete (the vocabulary is padded to a multiple of 8).
            for (let v = 1; v < b.vocabSize; v++) if (values[row + v] > values[row + best]) best = v;
            if (best === target) right++;
          }
        }
      }
      logits.dispose();
    }
  } finally {
    cache.dispose();
  }
  return { accuracy: right / asked, peakLiveBytes };
}

/** Bytes the backends hold in tensors right now. */
function backendBytes(): number {
  return Object.values(memory().backends).reduce((n, b) => n + (b?.bytes ?? 0), 0);
}

/** The synthetic task's test batch at one length (the same seed for every checkpoint). */
function syntheticBatch(task: string, length: number, batch: number | undefined): SyntheticBatch {
  if (task === 'selective-copying') return selectiveCopying({ batch: batch ?? 32, seqLen: length, numTokens: 16, vocabSize: 16, seed: 12345 });
  if (task === 'induction-heads') return inductionHeads({ batch: batch ?? 16, length, vocabSize: 16, seed: 12345 });
  return associativeRecall({ batch: batch ?? 32, numPairs: length, numQueries: length, vocabSize: 64, seed: 12345 });
}

export async function runEval(flags: EvalFlags): Promise<void> {
  const { model, tokenizer } = await loadCheckpoint(flags.checkpoint, flags.backend, flags.threads);
  const rows: { task: string; metric: string; value: number }[] = [];
  if (flags.task === 'selective-copying' || flags.task === 'induction-heads' || flags.task === 'mqar') {
    const lengths = flags.lengths.split(',').map(Number);
    const bad = lengths.find((n) => !Number.isInteger(n) || n < 4);
    if (bad !== undefined) throw new Error(`--lengths must be integers ≥ 4 separated by commas, got '${flags.lengths}'`);
    if (!Number.isInteger(flags.chunk) || flags.chunk < 1) throw new Error(`--chunk must be a positive integer, got ${flags.chunk}`);
    // S4's kernel exists up to lMax: its first chunk cannot be longer (later chunks step).
    const chunk = model.config.lMax !== null ? Math.min(flags.chunk, model.config.lMax) : flags.chunk;
    for (const length of lengths) {
      const batch = syntheticBatch(flags.task, length, flags.evalBatch);
      const t0 = performance.now();
      const { accuracy, peakLiveBytes } = await chunkedSyntheticAccuracy(model, batch, chunk);
      const seconds = (performance.now() - t0) / 1000;
      rows.push({ task: `${flags.task}@${length}`, metric: 'accuracy', value: accuracy });
      rows.push({ task: `${flags.task}@${length}`, metric: 'seconds', value: seconds });
      console.error(`${flags.task}@${length}: accuracy ${accuracy.toFixed(4)} (${batch.batch} sequences, chunks of ${chunk}, ${seconds.toFixed(1)} s, at most ${(peakLiveBytes / 2 ** 20).toFixed(1)} MiB of tensors held between chunks)`);
    }
  } else {
    if (!tokenizer) throw new Error(`${flags.checkpoint} has no tokenizer.json; text evaluation needs one`);
    const eot = tokenizer.tokenToId(END_OF_TEXT) ?? 0;
    const textTokenizer = { encode: (s: string) => tokenizer.encode(s), eotTokenId: eot };
    const scorer = scoringModel(model, flags.maxLength);
    if (flags.data) {
      const docs = flags.data === 'brown' ? splitDocuments(await brownCorpus()).heldOut : await textDocuments(flags.data);
      const texts = docs.slice(0, flags.limit ?? docs.length).map((d) => d.text);
      const scores = await loglikelihoodRolling(scorer, textTokenizer, texts, { batchSize: 4 });
      const m = corpusMetrics(scores.map((s, i) => ({ logLikelihood: s.logprob, tokens: s.tokens, bytes: utf8Bytes(texts[i]), words: countWords(texts[i]) })));
      rows.push(
        { task: flags.data, metric: 'bits_per_byte', value: m.bitsPerByte },
        { task: flags.data, metric: 'byte_perplexity', value: m.bytePerplexity },
        { task: flags.data, metric: 'word_perplexity', value: m.wordPerplexity },
        { task: flags.data, metric: 'token_perplexity', value: m.tokenPerplexity },
      );
    }
    if (flags.task) {
      if (!flags.taskFile) throw new Error(`--task ${flags.task} needs --task-file with the task's records (JSONL)`);
      const records = parseJsonl(await readFile(flags.taskFile, 'utf8')).slice(0, flags.limit);
      if (flags.task === 'lambada') {
        const r = await evaluateLambada(scorer, textTokenizer, records);
        rows.push({ task: 'lambada', metric: 'acc', value: r.acc }, { task: 'lambada', metric: 'perplexity', value: r.perplexity });
      } else {
        const docs = records.map(multipleChoiceTasks[flags.task as MultipleChoiceTask]);
        const r = await evaluateMultipleChoice(scorer, textTokenizer, docs);
        rows.push({ task: flags.task, metric: 'acc', value: r.acc }, { task: flags.task, metric: 'acc_norm', value: r.accNorm });
      }
    }
    if (!flags.data && !flags.task) throw new Error('nothing to evaluate: give --data, or --task (with --task-file for lm-eval tasks)');
  }
  console.log(formatResults(rows));
  if (flags.json) await writeFile(flags.json, `${JSON.stringify({ checkpoint: flags.checkpoint, results: rows }, null, 2)}\n`);
  model.dispose();
}

