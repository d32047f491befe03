/**
 * Choosing the next token from one row of logits, on plain Float32Arrays (the logits of a step are read
 * back from the backend anyway). The order of the transformations is Hugging Face's: repetition
 * penalty, then temperature, top-k, top-p; temperature 0 means greedy (argmax after the penalty).
 */
import { Generator, ValueError } from '@ssmjs/core';

export interface SamplingOptions {
  /** 0 = greedy; otherwise logits are divided by it before softmax. Default 1. */
  temperature?: number;
  /** Keep only the k most likely tokens (ties with the k-th kept). 0 or undefined = off. */
  topK?: number;
  /** Keep the smallest set of most likely tokens whose probability reaches p. 1 or undefined = off. */
  topP?: number;
  /** > 1 discourages tokens already in the sequence (CTRL / Hugging Face rule). 1 = off. */
  repetitionPenalty?: number;
}

/** Checks the options once, before a generation starts. */
export function validateSampling(options: SamplingOptions): void {
  const { temperature = 1, topK, topP, repetitionPenalty } = options;
  if (!(Number.isFinite(temperature) && temperature >= 0)) throw new ValueError('generate', `temperature must be a finite number ≥ 0, got ${temperature}`);
  if (topK !== undefined && !(Number.isInteger(topK) && topK >= 0)) throw new ValueError('generate', `topK must be an integer ≥ 0, got ${topK}`);
  if (topP !== undefined && !(topP > 0 && topP <= 1)) throw new ValueError('generate', `topP must be in (0, 1], got ${topP}`);
  if (repetitionPenalty !== undefined && !(Number.isFinite(repetitionPenalty) && repetitionPenalty > 0)) {
    throw new ValueError('generate', `repetitionPenalty must be a finite number > 0, got ${repetitionPenalty}`);
  }
}

/**
 * Penalizes (in place) every token that occurs in `previous`: a positive logit is divided by the penalty,
 * a negative one multiplied, so both become less likely.
 */
export function applyRepetitionPenalty(logits: Float32Array, previous: Iterable<number>, penalty: number): void {
  if (penalty === 1) return;
  for (const id of new Set(previous)) {
    if (id < 0 || id >= logits.length) continue;
    const v = logits[id];
    logits[id] = v < 0 ? v * penalty : v / penalty;
  }
}

/** Index of the largest value; the first one on ties (as torch.argmax). */
export function argmax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/**
 * The probabilities sampling would draw from (temperature, top-k, top-p applied; zeros for removed
 * tokens). Not for temperature 0.
 */
export function samplingDistribution(logits: Float32Array, options: SamplingOptions = {}): Float64Array {
  const { temperature = 1, topK = 0, topP = 1 } = options;
  const n = logits.length;
  const scaled = new Float64Array(n);
  for (let i = 0; i < n; i++) scaled[i] = logits[i] / temperature;

  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scaled[b] - scaled[a]);
  let kept = n;
  if (topK > 0 && topK < n) {
    // Everything at least as large as the k-th value stays, so ties are not broken arbitrarily.
    const threshold = scaled[order[topK - 1]];
    kept = topK;
    while (kept < n && scaled[order[kept]] >= threshold) kept++;
  }

  const max = scaled[order[0]];
  const probs = new Float64Array(n);
  let total = 0;
  for (let r = 0; r < kept; r++) total += probs[order[r]] = Math.exp(scaled[order[r]] - max);

  if (topP < 1) {
    // Walk down from the most likely token until the mass reaches topP; the token that crosses stays.
    let mass = 0;
    let r = 0;
    while (r < kept) {
      mass += probs[order[r]] / total;
      r++;
      if (mass >= topP) break;
    }
    for (let s = r; s < kept; s++) probs[order[s]] = 0;
    kept = r;
    total = 0;
    for (let s = 0; s < kept; s++) total += probs[order[s]];
  }
  for (let r = 0; r < kept; r++) probs[order[r]] /= total;
  return probs;
}

/**
 * The next token for one sequence. `previous` are the ids so far (prompt included) for the repetition
 * penalty. `logits` is not modified.
 */
export function sampleToken(logits: Float32Array, previous: Iterable<number>, options: SamplingOptions, generator: Generator): number {
  const row = Float32Array.from(logits);
  applyRepetitionPenalty(row, previous, options.repetitionPenalty ?? 1);
  if ((options.temperature ?? 1) === 0) return argmax(row);
  const probs = samplingDistribution(row, options);
  const u = generator.uniform();
  let cumulative = 0;
  let last = 0;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i] === 0) continue;
    cumulative += probs[i];
    last = i;
    if (u < cumulative) return i;
  }
  return last; // rounding left u just above the total
}
