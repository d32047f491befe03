/**
 * What evaluation needs of a model and a tokenizer. Kept to plain arrays so that any model (a Mamba
 * LM, an S4 LM, a remote service) can be evaluated without this package depending on it.
 */
export interface ScoringModel {
  /**
   * Log-probabilities of the next token at every position: for `batch` sequences of `length` ids
   * (row-major in `ids`), returns `batch · length · vocabSize` values, log-softmax over the last axis.
   */
  logProbs(ids: Int32Array, batch: number, length: number): Promise<Float32Array>;
  readonly vocabSize: number;
  /** Longest input the model takes in one call (rolling windows and truncation use it). */
  readonly maxLength: number;
}

export interface TextTokenizer {
  encode(text: string): number[];
  /** The id that starts a document with no context (lm-eval's prefix token: end-of-text). */
  readonly eotTokenId: number;
}

/** Log-softmax of one row in place (for adapters that produce logits). */
export function logSoftmaxInPlace(row: Float32Array, offset: number, size: number): void {
  let max = -Infinity;
  for (let i = 0; i < size; i++) max = Math.max(max, row[offset + i]);
  let total = 0;
  for (let i = 0; i < size; i++) total += Math.exp(row[offset + i] - max);
  const lse = max + Math.log(total);
  for (let i = 0; i < size; i++) row[offset + i] -= lse;
}
