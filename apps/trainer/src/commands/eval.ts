import { readFile, writeFile } from 'node:fs/promises';
import { logSoftmax, noGrad, tensor, tidy } from '@ssmjs/core';
import {
  corpusMetrics, countWords, evaluateLambada, evaluateMultipleChoice, formatResults, inductionHeads, loglikelihoodRolling,
  multipleChoiceTasks, parseJsonl, selectiveCopying, associativeRecall, utf8Bytes, type MultipleChoiceTask, type ScoringModel,
} from '@ssmjs/eval';
import type { MambaLM } from '@ssmjs/mamba';
import { brownCorpus, splitDocuments, textDocuments } from '../data';
import { syntheticAccuracyOf } from '../train';
import { END_OF_TEXT } from '../tokenizers';
import { loadCheckpoint } from './load';

interface EvalFlags {
  checkpoint: string;
  data?: string;
  task?: string;
  taskFile?: string;
  lengths: string;
  limit?: number;
  maxLength: number;
  json?: string;
  backend: string;
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

export async function runEval(flags: EvalFlags): Promise<void> {
  const { model, tokenizer } = await loadCheckpoint(flags.checkpoint, flags.backend);
  const rows: { task: string; metric: string; value: number }[] = [];
  if (flags.task === 'selective-copying' || flags.task === 'induction-heads' || flags.task === 'mqar') {
    for (const length of flags.lengths.split(',').map(Number)) {
      const batch = flags.task === 'selective-copying'
        ? selectiveCopying({ batch: 32, seqLen: length, numTokens: 16, vocabSize: 16, seed: 12345 })
        : flags.task === 'induction-heads'
          ? inductionHeads({ batch: 16, length, vocabSize: 16, seed: 12345 })
          : associativeRecall({ batch: 32, numPairs: length, numQueries: length, vocabSize: 64, seed: 12345 });
      const result = await syntheticAccuracyOf(model, batch);
      rows.push({ task: `${flags.task}@${length}`, metric: 'accuracy', value: result.value });
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

