import { Generator } from '@ssmjs/core';

/**
 * The Mamba paper's synthetic tasks as seeded batch generators. Targets hold -100 (the cross-entropy
 * ignore index) where nothing is asked, so a loss over `targets` trains exactly the task.
 */
export const IGNORE_INDEX = -100;

export interface SyntheticBatch {
  /** [batch, length] token ids. */
  inputs: Int32Array;
  /** [batch, length]: the id to predict at each position, or IGNORE_INDEX. */
  targets: Int32Array;
  batch: number;
  length: number;
  vocabSize: number;
}

function newBatch(batch: number, length: number, vocabSize: number): SyntheticBatch {
  return { inputs: new Int32Array(batch * length), targets: new Int32Array(batch * length).fill(IGNORE_INDEX), batch, length, vocabSize };
}

/** Fisher–Yates shuffle in place. */
function shuffle<T>(g: Generator, xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = g.int(i + 1);
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
}

/** k distinct sorted positions out of [0, n). */
function samplePositions(g: Generator, n: number, k: number): number[] {
  const chosen = new Set<number>();
  while (chosen.size < k) chosen.add(g.int(n));
  return [...chosen].sort((a, b) => a - b);
}

export interface SelectiveCopyingOptions {
  batch: number;
  /** Length of the region the data tokens are scattered in (the paper: 4096; smaller here). */
  seqLen: number;
  /** Tokens to memorize (the paper: 16). */
  numTokens?: number;
  /** Includes the noise token 0 and the marker token vocabSize − 1 (the paper: 16). */
  vocabSize?: number;
  seed: number;
}

/**
 * Selective Copying: `numTokens` data tokens (1 … V−2) at random positions among noise (0) in a
 * region of `seqLen`, then `numTokens` markers (V−1); at each marker the model must output the data
 * tokens in order. Solving it needs content-aware (selective) memory: the positions vary.
 */
export function selectiveCopying(options: SelectiveCopyingOptions): SyntheticBatch {
  const { batch, seqLen, numTokens = 16, vocabSize = 16, seed } = options;
  if (numTokens > seqLen) throw new RangeError(`selectiveCopying: numTokens ${numTokens} exceeds seqLen ${seqLen}`);
  if (vocabSize < 3) throw new RangeError(`selectiveCopying: vocabSize must be ≥ 3 (noise, marker, data), got ${vocabSize}`);
  const g = new Generator(seed);
  const length = seqLen + numTokens;
  const out = newBatch(batch, length, vocabSize);
  const marker = vocabSize - 1;
  for (let b = 0; b < batch; b++) {
    const row = b * length;
    const positions = samplePositions(g, seqLen, numTokens);
    positions.forEach((p, i) => {
      const token = 1 + g.int(vocabSize - 2);
      out.inputs[row + p] = token;
      out.inputs[row + seqLen + i] = marker;
      out.targets[row + seqLen + i] = token;
    });
  }
  return out;
}

export interface InductionHeadsOptions {
  batch: number;
  /** Sequence length (the paper trains at 256 and tests up to 2^20). */
  length: number;
  /** Includes the trigger token vocabSize − 1 (the paper: 16). */
  vocabSize?: number;
  seed: number;
}

/**
 * Induction Heads: random tokens, with a trigger token (V−1) appearing once followed by a target
 * token, and again at the very end; the model must output the target after the final trigger.
 */
export function inductionHeads(options: InductionHeadsOptions): SyntheticBatch {
  const { batch, length, vocabSize = 16, seed } = options;
  if (length < 4) throw new RangeError(`inductionHeads: length must be ≥ 4, got ${length}`);
  const g = new Generator(seed);
  const out = newBatch(batch, length, vocabSize);
  const trigger = vocabSize - 1;
  for (let b = 0; b < batch; b++) {
    const row = b * length;
    for (let t = 0; t < length; t++) out.inputs[row + t] = g.int(vocabSize - 1);
    const p = g.int(length - 3);
    const answer = g.int(vocabSize - 1);
    out.inputs[row + p] = trigger;
    out.inputs[row + p + 1] = answer;
    out.inputs[row + length - 1] = trigger;
    out.targets[row + length - 1] = answer;
  }
  return out;
}

export interface AssociativeRecallOptions {
  batch: number;
  /** Key-value pairs shown first. */
  numPairs: number;
  /** Keys queried afterwards (each followed by its value, which is the target). */
  numQueries: number;
  /** Keys come from [0, V/2), values from [V/2, V). */
  vocabSize: number;
  seed: number;
}

/**
 * Multi-query associative recall (Zoology): `k1 v1 … kn vn` then queried keys, each followed by its
 * value; the model must predict the value at each queried key.
 */
export function associativeRecall(options: AssociativeRecallOptions): SyntheticBatch {
  const { batch, numPairs, numQueries, vocabSize, seed } = options;
  const half = Math.floor(vocabSize / 2);
  if (numPairs > half) throw new RangeError(`associativeRecall: ${numPairs} distinct keys need vocabSize ≥ ${2 * numPairs}, got ${vocabSize}`);
  if (numQueries > numPairs) throw new RangeError(`associativeRecall: numQueries ${numQueries} exceeds numPairs ${numPairs}`);
  const g = new Generator(seed);
  const length = 2 * (numPairs + numQueries);
  const out = newBatch(batch, length, vocabSize);
  for (let b = 0; b < batch; b++) {
    const row = b * length;
    const keys = shuffle(g, samplePositions(g, half, numPairs));
    const values = keys.map(() => half + g.int(vocabSize - half));
    keys.forEach((k, i) => {
      out.inputs[row + 2 * i] = k;
      out.inputs[row + 2 * i + 1] = values[i];
    });
    const queried = shuffle(g, samplePositions(g, numPairs, numQueries));
    queried.forEach((pair, q) => {
      const at = row + 2 * numPairs + 2 * q;
      out.inputs[at] = keys[pair];
      out.inputs[at + 1] = values[pair];
      out.targets[at] = values[pair];
    });
  }
  return out;
}

/** Token accuracy over asked positions, and the fraction of sequences with every asked token right. */
export function syntheticAccuracy(predictions: Int32Array, batch: SyntheticBatch): { tokenAccuracy: number; sequenceAccuracy: number } {
  let asked = 0;
  let right = 0;
  let perfect = 0;
  for (let b = 0; b < batch.batch; b++) {
    let allRight = true;
    for (let t = 0; t < batch.length; t++) {
      const target = batch.targets[b * batch.length + t];
      if (target === IGNORE_INDEX) continue;
      asked++;
      if (predictions[b * batch.length + t] === target) right++;
      else allRight = false;
    }
    if (allRight) perfect++;
  }
  return { tokenAccuracy: right / asked, sequenceAccuracy: perfect / batch.batch };
}
