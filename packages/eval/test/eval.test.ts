import { describe, expect, it } from 'vitest';
import {
  associativeRecall, bench, bitsPerByte, corpusMetrics, countWords, encodePair, evaluateLambada, evaluateMultipleChoice,
  formatBenchTable, hellaswagPreprocess, IGNORE_INDEX, inductionHeads, lambadaRequest, loglikelihood, loglikelihoodRolling,
  multipleChoiceRequests, multipleChoiceTasks, parseJsonl, perplexity, rollingWindows, scoreMultipleChoice, selectiveCopying,
  syntheticAccuracy, TaskFormatError, utf8Bytes, type ScoringModel, type TextTokenizer,
} from '@ssmjs/eval';

/** Characters as tokens (code point mod 128), end-of-text = 0. */
const charTokenizer: TextTokenizer = { encode: (s) => [...s].map((c) => c.codePointAt(0)! % 128), eotTokenId: 0 };

/**
 * A bigram model with a closed form: after token t it puts probability p on t + 1 and spreads the rest
 * uniformly over the other V − 1 ids. Records the batches it was called with.
 */
function successorModel(V = 128, p = 0.5, maxLength = 1024): ScoringModel & { calls: number[][] } {
  const calls: number[][] = [];
  return {
    vocabSize: V,
    maxLength,
    calls,
    async logProbs(ids, batch, length) {
      calls.push([batch, length]);
      const out = new Float32Array(batch * length * V).fill(Math.log((1 - p) / (V - 1)));
      for (let i = 0; i < batch * length; i++) out[i * V + ((ids[i] + 1) % V)] = Math.log(p);
      return out;
    },
  };
}
const lp = (hit: boolean, V = 128, p = 0.5) => (hit ? Math.log(p) : Math.log((1 - p) / (V - 1)));

describe('metrics', () => {
  it('computes perplexity, bits per byte and word counts by the harness definitions', () => {
    expect(perplexity([Math.log(0.5), Math.log(0.5)])).toBeCloseTo(2, 12);
    expect(bitsPerByte(-8 * Math.LN2, 4)).toBeCloseTo(2, 12);
    expect(utf8Bytes('héllo ☃')).toBe(10);
    expect(countWords('a  b\tc\n')).toBe(4); // re.split keeps the empty end
    const m = corpusMetrics([
      { logLikelihood: -2, tokens: 2, bytes: 4, words: 1 },
      { logLikelihood: -4, tokens: 2, bytes: 4, words: 2 },
    ]);
    expect(m.tokenPerplexity).toBeCloseTo(Math.exp(6 / 4), 12);
    expect(m.wordPerplexity).toBeCloseTo(Math.exp(6 / 3), 12);
    expect(m.bitsPerByte).toBeCloseTo(6 / (8 * Math.LN2), 12);
  });

  it('rolling windows predict each token exactly once with at most maxLength inputs', () => {
    const tokens = Array.from({ length: 23 }, (_, i) => 100 + i);
    for (const maxLength of [1, 4, 7, 23, 50]) {
      const windows = rollingWindows(tokens, 0, maxLength);
      expect(windows.flatMap((w) => w.continuation)).toEqual(tokens);
      for (const w of windows) {
        expect(w.context.length + w.continuation.length - 1).toBeLessThanOrEqual(maxLength);
        expect(w.context.length).toBeGreaterThan(0);
      }
    }
    // The harness's example: 10 tokens, max length 4.
    expect(rollingWindows([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], -1, 4)).toEqual([
      { context: [-1], continuation: [1, 2, 3, 4] },
      { context: [4], continuation: [5, 6, 7, 8] },
      { context: [6, 7, 8], continuation: [9, 10] },
    ]);
  });
});

describe('log-likelihood', () => {
  it('moves trailing context spaces into the continuation and uses end-of-text for an empty context', () => {
    expect(encodePair(charTokenizer, 'ab ', 'c')).toEqual({ context: [97, 98], continuation: [32, 99] });
    expect(encodePair(charTokenizer, '', 'xy')).toEqual({ context: [0], continuation: [120, 121] });
  });

  it('scores continuations in batches with the closed-form values and greedy flags', async () => {
    const model = successorModel();
    const res = await loglikelihood(model, charTokenizer, [
      { context: 'ab', continuation: 'cd' }, // both successors: greedy
      { context: 'ab', continuation: 'cx' }, // second misses
      { context: 'hello', continuation: ' world' },
    ], { batchSize: 2 });
    expect(res[0].logprob).toBeCloseTo(2 * lp(true), 5);
    expect(res[0].isGreedy).toBe(true);
    expect(res[1].logprob).toBeCloseTo(lp(true) + lp(false), 5);
    expect(res[1].isGreedy).toBe(false);
    expect(res[2].tokens).toBe(6);
    expect(model.calls.length).toBe(2);
  });

  it('rolling log-likelihood equals the sum over tokens however the windows fall', async () => {
    const text = 'abcdxyzabcdefg';
    const full = await loglikelihoodRolling(successorModel(128, 0.5, 1024), charTokenizer, [text]);
    const small = await loglikelihoodRolling(successorModel(128, 0.5, 3), charTokenizer, [text]);
    // With a bigram model every token's score depends only on its predecessor, so windows don't matter.
    expect(small[0].logprob).toBeCloseTo(full[0].logprob, 4);
    expect(full[0].tokens).toBe(text.length);
  });
});

describe('tasks', () => {
  it('formats hellaswag as the harness does', () => {
    const doc = multipleChoiceTasks.hellaswag({
      activity_label: 'Roof shingle removal',
      ctx_a: 'A man is sitting on a roof.',
      ctx_b: 'he',
      endings: ['is using wrap to wrap a pair of skis.', 'starts pulling up roofing on a roof.'],
      label: '1',
    });
    expect(doc.contexts).toEqual(['Roof shingle removal: A man is sitting on a roof. He']);
    expect(multipleChoiceRequests(doc)[1]).toEqual({ context: doc.contexts[0], continuation: ' starts pulling up roofing on a roof.' });
    expect(doc.gold).toBe(1);
    // strip() comes first, so removing a leading [header] leaves a space, as in the harness.
    expect(hellaswagPreprocess(' [header] How to x [title] Step one  two ')).toBe(' How to x. Step one two');
  });

  it('formats piqa, arc, winogrande and lambada', () => {
    expect(multipleChoiceTasks.piqa({ goal: 'Open a jar', sol1: 'Twist', sol2: 'Kick', label: 0 }).contexts).toEqual(['Question: Open a jar\nAnswer:']);
    const arc = multipleChoiceTasks.arc({ question: 'Q?', choices: { text: ['x', 'y', 'z'], label: ['A', 'B', 'C'] }, answerKey: 'C' });
    expect(arc.gold).toBe(2);
    const wino = multipleChoiceTasks.winogrande({ sentence: 'Sarah was a better surgeon than Maria so _ always got the harder cases.', option1: 'Sarah', option2: 'Maria', answer: '1' });
    expect(wino.contexts).toEqual(['Sarah was a better surgeon than Maria so Sarah', 'Sarah was a better surgeon than Maria so Maria']);
    expect(multipleChoiceRequests(wino)[0].continuation).toBe(' always got the harder cases.');
    expect(wino.gold).toBe(0);
    expect(lambadaRequest({ text: 'the cat sat on the mat' })).toEqual({ context: 'the cat sat on the', continuation: ' mat' });
    expect(() => multipleChoiceTasks.piqa({ goal: 3 })).toThrow(TaskFormatError);
    expect(() => parseJsonl('{"a":1}\n{oops')).toThrow(/line 2/);
  });

  it('acc_norm divides by characters of the choice', () => {
    const doc = { contexts: ['c'], choices: ['a', 'bbbb'], gold: 1, delimiter: ' ' };
    // Raw: choice 0 wins; per character: −2/1 < −4/4, so choice 1 wins.
    expect(scoreMultipleChoice([doc], [[-2, -4]])).toEqual({ acc: 0, accNorm: 1, count: 1 });
  });

  it('runs multiple choice and lambada end to end on a model', async () => {
    const model = successorModel();
    const mc = await evaluateMultipleChoice(model, charTokenizer, [{ contexts: ['ab'], choices: ['zz', 'de'], gold: 1, delimiter: '' }]);
    // 'ab' + 'cd…': continuation 'de' after 'ab' is (miss, hit), 'zz' is (miss, miss).
    expect(mc.acc).toBe(1);
    const lam = await evaluateLambada(model, charTokenizer, [{ text: 'xyz abc' }, { text: 'a bcd' }]);
    expect(lam.count).toBe(2);
    expect(lam.acc).toBe(0); // the space after the context is never the successor
  });
});

describe('synthetic tasks', () => {
  it('selective copying: data tokens among noise, then markers asking for them in order', () => {
    const b = selectiveCopying({ batch: 3, seqLen: 40, numTokens: 5, vocabSize: 10, seed: 1 });
    expect(b.length).toBe(45);
    for (let r = 0; r < 3; r++) {
      const row = Array.from(b.inputs.slice(r * 45, r * 45 + 40)).filter((t) => t !== 0);
      const asked = Array.from(b.targets.slice(r * 45 + 40, r * 45 + 45));
      expect(row).toEqual(asked);
      expect(Array.from(b.inputs.slice(r * 45 + 40, r * 45 + 45))).toEqual([9, 9, 9, 9, 9]);
      expect(b.targets.slice(r * 45, r * 45 + 40).every((t) => t === IGNORE_INDEX)).toBe(true);
    }
    expect(selectiveCopying({ batch: 3, seqLen: 40, numTokens: 5, vocabSize: 10, seed: 1 })).toEqual(b);
    expect(selectiveCopying({ batch: 3, seqLen: 40, numTokens: 5, vocabSize: 10, seed: 2 }).inputs).not.toEqual(b.inputs);
  });

  it('induction heads: the answer follows the first trigger', () => {
    const b = inductionHeads({ batch: 4, length: 32, seed: 3 });
    for (let r = 0; r < 4; r++) {
      const row = Array.from(b.inputs.slice(r * 32, r * 32 + 32));
      const first = row.indexOf(15);
      expect(row.lastIndexOf(15)).toBe(31);
      expect(row.filter((t) => t === 15).length).toBe(2);
      expect(b.targets[r * 32 + 31]).toBe(row[first + 1]);
    }
  });

  it('associative recall: each queried key is followed by its value', () => {
    const b = associativeRecall({ batch: 2, numPairs: 6, numQueries: 3, vocabSize: 32, seed: 4 });
    for (let r = 0; r < 2; r++) {
      const row = Array.from(b.inputs.slice(r * b.length, (r + 1) * b.length));
      const map = new Map<number, number>();
      for (let i = 0; i < 6; i++) map.set(row[2 * i], row[2 * i + 1]);
      expect(map.size).toBe(6);
      for (let q = 0; q < 3; q++) expect(b.targets[r * b.length + 12 + 2 * q]).toBe(map.get(row[12 + 2 * q]));
    }
  });

  it('accuracy counts only asked positions', () => {
    const b = inductionHeads({ batch: 2, length: 8, seed: 5 });
    const pred = new Int32Array(16);
    pred[7] = b.targets[7];
    pred[15] = (b.targets[15] + 1) % 15;
    expect(syntheticAccuracy(pred, b)).toEqual({ tokenAccuracy: 0.5, sequenceAccuracy: 0.5 });
  });
});

describe('bench harness', () => {
  it('reports medians and ratios', async () => {
    const slow = await bench('slow', () => { let s = 0; for (let i = 0; i < 2e5; i++) s += Math.sqrt(i); return s; }, { repeats: 5, work: { amount: 2e5, unit: 'op' } });
    const fast = await bench('fast', () => { let s = 0; for (let i = 0; i < 2e3; i++) s += Math.sqrt(i); return s; }, { repeats: 5 });
    expect(slow.samples.length).toBe(5);
    expect(fast.medianMs).toBeLessThan(slow.medianMs);
    expect(formatBenchTable([slow, fast], 'slow')).toMatch(/\| fast \|.*×/);
  });

  it('measures CPU time beside wall time in Node (busy work costs CPU, waiting does not)', async () => {
    const busy = await bench('busy', () => { let s = 0; for (let i = 0; i < 3e7; i++) s += Math.sqrt(i); return s; }, { warmup: 0, repeats: 3 });
    const idle = await bench('idle', () => new Promise((resolve) => setTimeout(resolve, 20)), { warmup: 0, repeats: 3 });
    expect(busy.cpuMedianMs).toBeGreaterThan(5);
    expect(idle.cpuMedianMs).toBeLessThan(5);
    expect(idle.medianMs).toBeGreaterThan(15);
  });
});
