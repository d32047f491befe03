import { Generator } from '@ssmjs/core';

/**
 * Training batches drawn from one long stream of token ids: each row is a random window of
 * `length + 1` tokens (inputs and the next-token labels). The generator's state is the whole data
 * order, so saving it with a checkpoint makes a resumed run see exactly the batches an uninterrupted
 * run would.
 */
export class TokenBatcher {
  readonly generator: Generator;

  constructor(
    readonly tokens: Int32Array,
    readonly batch: number,
    readonly length: number,
    seed: number,
  ) {
    if (tokens.length < length + 1) {
      throw new RangeError(`the training data has ${tokens.length} tokens, fewer than one window of ${length + 1}; use a shorter --seq-len or more data`);
    }
    this.generator = new Generator(seed);
  }

  /** [batch, length + 1] ids, row-major. */
  next(): Int32Array {
    const out = new Int32Array(this.batch * (this.length + 1));
    const starts = this.tokens.length - this.length;
    for (let b = 0; b < this.batch; b++) {
      const s = this.generator.int(starts);
      out.set(this.tokens.subarray(s, s + this.length + 1), b * (this.length + 1));
    }
    return out;
  }
}

/** Consecutive non-overlapping windows over held-out tokens, for a deterministic evaluation. */
export function evaluationWindows(tokens: Int32Array, length: number, maxWindows: number): Int32Array[] {
  const windows: Int32Array[] = [];
  for (let s = 0; s + length + 1 <= tokens.length && windows.length < maxWindows; s += length) {
    windows.push(tokens.slice(s, s + length + 1));
  }
  return windows;
}

/** Joins documents' ids into one stream, separated by `separator` when given. */
export function concatTokens(docs: readonly number[][], separator?: number): Int32Array {
  const total = docs.reduce((n, d) => n + d.length + (separator === undefined ? 0 : 1), 0);
  const out = new Int32Array(total);
  let at = 0;
  for (const d of docs) {
    out.set(d, at);
    at += d.length;
    if (separator !== undefined) out[at++] = separator;
  }
  return out;
}
