import { rollingWindows } from './metrics';
import type { ScoringModel, TextTokenizer } from './model';

export interface LoglikelihoodRequest {
  context: string;
  continuation: string;
}

export interface LoglikelihoodResult {
  /** Sum of log p(continuation tokens | context), natural log. */
  logprob: number;
  /** Whether greedy decoding from the context would produce exactly the continuation's tokens. */
  isGreedy: boolean;
  /** Number of continuation tokens scored. */
  tokens: number;
}

/**
 * Tokenizes a (context, continuation) pair as the harness does: trailing spaces of the context move to
 * the continuation, the whole string is encoded once and the continuation is what follows the
 * context's own encoding. An empty context is replaced by the end-of-text token.
 */
export function encodePair(tokenizer: TextTokenizer, context: string, continuation: string): { context: number[]; continuation: number[] } {
  if (context === '') return { context: [tokenizer.eotTokenId], continuation: tokenizer.encode(continuation) };
  const trimmed = context.replace(/\s+$/, '');
  const spaces = context.length - trimmed.length;
  if (spaces > 0) {
    continuation = context.slice(trimmed.length) + continuation;
    context = trimmed;
  }
  const whole = tokenizer.encode(context + continuation);
  const contextIds = tokenizer.encode(context);
  return { context: contextIds, continuation: whole.slice(contextIds.length) };
}

interface TokenRequest {
  context: readonly number[];
  continuation: readonly number[];
}

/**
 * Scores token-level requests in batches. The input is (context + continuation) truncated on the left
 * to maxLength + 1, minus its last token; sequences in a batch are right-padded (a causal model's
 * outputs at real positions do not see the padding).
 */
export async function scoreTokens(model: ScoringModel, requests: readonly TokenRequest[], batchSize = 8): Promise<LoglikelihoodResult[]> {
  const results = new Array<LoglikelihoodResult>(requests.length);
  // Longest first, so a batch holds similar lengths and padding is small (the harness sorts too).
  const order = requests.map((_, i) => i).sort((a, b) => totalLength(requests[b]) - totalLength(requests[a]));
  for (let start = 0; start < order.length; start += batchSize) {
    const group = order.slice(start, start + batchSize);
    const inputs = group.map((i) => {
      const { context, continuation } = requests[i];
      if (continuation.length === 0) throw new RangeError('loglikelihood: the continuation encodes to no tokens');
      const all = [...context, ...continuation].slice(-(model.maxLength + 1));
      return { input: all.slice(0, -1) };
    });
    const length = Math.max(...inputs.map((x) => x.input.length));
    const ids = new Int32Array(group.length * length);
    inputs.forEach((x, b) => ids.set(x.input, b * length));
    const logProbs = await model.logProbs(ids, group.length, length);
    const V = model.vocabSize;
    group.forEach((requestIndex, b) => {
      const { input } = inputs[b];
      const continuation = requests[requestIndex].continuation;
      const n = Math.min(continuation.length, input.length);
      let logprob = 0;
      let isGreedy = true;
      for (let k = 0; k < n; k++) {
        // Position input.length - n + k predicts continuation[continuation.length - n + k].
        const pos = input.length - n + k;
        const target = continuation[continuation.length - n + k];
        const row = (b * length + pos) * V;
        logprob += logProbs[row + target];
        if (isGreedy) {
          let best = 0;
          for (let v = 1; v < V; v++) if (logProbs[row + v] > logProbs[row + best]) best = v;
          isGreedy = best === target;
        }
      }
      results[requestIndex] = { logprob, isGreedy, tokens: n };
    });
  }
  return results;
}

function totalLength(r: TokenRequest): number {
  return r.context.length + r.continuation.length;
}

/** Log-likelihood of each continuation given its context. */
export async function loglikelihood(
  model: ScoringModel,
  tokenizer: TextTokenizer,
  requests: readonly LoglikelihoodRequest[],
  options: { batchSize?: number } = {},
): Promise<LoglikelihoodResult[]> {
  const encoded = requests.map((r) => encodePair(tokenizer, r.context, r.continuation));
  return scoreTokens(model, encoded, options.batchSize);
}

/** Log-likelihood of whole documents through rolling windows (for perplexity of long texts). */
export async function loglikelihoodRolling(
  model: ScoringModel,
  tokenizer: TextTokenizer,
  texts: readonly string[],
  options: { batchSize?: number } = {},
): Promise<{ logprob: number; tokens: number }[]> {
  const windows = texts.map((t) => rollingWindows(tokenizer.encode(t), tokenizer.eotTokenId, model.maxLength));
  const flat = windows.flat();
  const scores = await scoreTokens(model, flat, options.batchSize);
  let k = 0;
  return windows.map((ws) => {
    let logprob = 0;
    let tokens = 0;
    for (let i = 0; i < ws.length; i++, k++) {
      logprob += scores[k].logprob;
      tokens += scores[k].tokens;
    }
    return { logprob, tokens };
  });
}
