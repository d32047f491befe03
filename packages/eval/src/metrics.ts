/**
 * Corpus-level metrics with lm-evaluation-harness's definitions: log-likelihoods are natural-log sums
 * over a document; perplexities are exp of the mean negative log-likelihood per unit.
 */

const encoder = new TextEncoder();

/** Bytes of the UTF-8 encoding (the unit of bits per byte). */
export function utf8Bytes(text: string): number {
  return encoder.encode(text).length;
}

/** Words as the harness counts them: pieces of `re.split(r"\s+", text)` (empty ends included). */
export function countWords(text: string): number {
  return text.split(/\s+/).length;
}

export interface DocumentScore {
  /** Sum of log p(token) over the document, natural log. */
  logLikelihood: number;
  tokens: number;
  bytes: number;
  words: number;
}

export interface CorpusMetrics {
  tokenPerplexity: number;
  wordPerplexity: number;
  bytePerplexity: number;
  bitsPerByte: number;
  /** Mean negative log-likelihood per token (nats): the training loss. */
  nllPerToken: number;
}

/** Aggregates document scores the way the harness does (weighted by units, not mean of ratios). */
export function corpusMetrics(docs: readonly DocumentScore[]): CorpusMetrics {
  let ll = 0;
  let tokens = 0;
  let bytes = 0;
  let words = 0;
  for (const d of docs) {
    ll += d.logLikelihood;
    tokens += d.tokens;
    bytes += d.bytes;
    words += d.words;
  }
  return {
    tokenPerplexity: Math.exp(-ll / tokens),
    wordPerplexity: Math.exp(-ll / words),
    bytePerplexity: Math.exp(-ll / bytes),
    bitsPerByte: -ll / (bytes * Math.LN2),
    nllPerToken: -ll / tokens,
  };
}

/** Perplexity of a list of token log-probabilities. */
export function perplexity(logProbs: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < logProbs.length; i++) sum += logProbs[i];
  return Math.exp(-sum / logProbs.length);
}

/** Bits per byte of a total natural-log likelihood over `bytes` bytes. */
export function bitsPerByte(logLikelihood: number, bytes: number): number {
  return -logLikelihood / (bytes * Math.LN2);
}

/**
 * Splits a long token list into windows of at most `maxLength` inputs that together predict every
 * token exactly once (lm-eval's rolling windows with context length 1, made disjoint). Each window
 * is `{ context, continuation }`: the model reads context + continuation[:-1] and scores continuation.
 */
export function rollingWindows(
  tokens: readonly number[],
  prefixToken: number,
  maxLength: number,
): { context: number[]; continuation: number[] }[] {
  if (maxLength < 1) throw new RangeError(`rollingWindows: maxLength must be ≥ 1, got ${maxLength}`);
  const windows: { context: number[]; continuation: number[] }[] = [];
  if (tokens.length === 0) return windows;
  // First window: the prefix token stands in for the missing context of token 0.
  const first = Math.min(maxLength, tokens.length);
  windows.push({ context: [prefixToken], continuation: tokens.slice(0, first) });
  let predicted = first;
  while (predicted < tokens.length) {
    const count = Math.min(tokens.length - predicted, maxLength);
    const end = predicted + count;
    // The window's input is tokens[end - maxLength - 1, end - 1); its context is what precedes the
    // newly predicted tokens (the disjoint form: no token is scored twice).
    const start = Math.max(0, end - maxLength - 1);
    const input = tokens.slice(start, end - 1);
    windows.push({ context: input.slice(0, input.length - (count - 1)), continuation: tokens.slice(predicted, end) });
    predicted = end;
  }
  return windows;
}
