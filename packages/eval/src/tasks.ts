import { loglikelihood, type LoglikelihoodRequest } from './loglikelihood';
import type { ScoringModel, TextTokenizer } from './model';

/**
 * lm-evaluation-harness tasks as the harness formats them. Each loader takes one JSONL record in the
 * layout of the harness's dataset (its HF dataset columns) and gives a context, the choices and the
 * gold index; the delimiter between context and choice is the task's `target_delimiter`.
 */
export interface MultipleChoiceDoc {
  /** One context shared by all choices, or one context per choice (winogrande's partial scoring). */
  contexts: string[];
  choices: string[];
  gold: number;
  delimiter: string;
}

export class TaskFormatError extends Error {
  constructor(task: string, message: string) {
    super(`${task}: ${message}`);
    this.name = 'TaskFormatError';
  }
}

function field<T>(task: string, doc: Record<string, unknown>, name: string, check: (v: unknown) => v is T): T {
  const v = doc[name];
  if (!check(v)) throw new TaskFormatError(task, `record needs field '${name}' (${check.name.replace(/^is/, '')}), got ${JSON.stringify(v)}`);
  return v;
}
const isString = (v: unknown): v is string => typeof v === 'string';
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** HellaSwag's cleaning of WikiHow/ActivityNet text. */
export function hellaswagPreprocess(text: string): string {
  return text.trim().replace(/ \[title\]/g, '. ').replace(/\[.*?\]/g, '').replace(/ {2}/g, ' ');
}

/** Python's str.capitalize: first character upper, the rest lower. */
function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1).toLowerCase();
}

export const multipleChoiceTasks = {
  hellaswag(doc: Record<string, unknown>): MultipleChoiceDoc {
    const t = 'hellaswag';
    const ctx = `${field(t, doc, 'ctx_a', isString)} ${capitalize(field(t, doc, 'ctx_b', isString))}`;
    const query = hellaswagPreprocess(`${field(t, doc, 'activity_label', isString)}: ${ctx}`);
    const choices = field(t, doc, 'endings', isStringArray).map(hellaswagPreprocess);
    return { contexts: [query], choices, gold: Number(doc.label), delimiter: ' ' };
  },

  piqa(doc: Record<string, unknown>): MultipleChoiceDoc {
    const t = 'piqa';
    const context = `Question: ${field(t, doc, 'goal', isString)}\nAnswer:`;
    return { contexts: [context], choices: [field(t, doc, 'sol1', isString), field(t, doc, 'sol2', isString)], gold: Number(doc.label), delimiter: ' ' };
  },

  /** arc_easy and arc_challenge (same layout). */
  arc(doc: Record<string, unknown>): MultipleChoiceDoc {
    const t = 'arc';
    const choices = doc.choices as { text?: unknown; label?: unknown } | undefined;
    if (!choices || !isStringArray(choices.text) || !isStringArray(choices.label)) {
      throw new TaskFormatError(t, `record needs choices {text: string[], label: string[]}, got ${JSON.stringify(doc.choices)}`);
    }
    const gold = choices.label.indexOf(field(t, doc, 'answerKey', isString));
    if (gold < 0) throw new TaskFormatError(t, `answerKey ${JSON.stringify(doc.answerKey)} is not among labels ${JSON.stringify(choices.label)}`);
    return { contexts: [`Question: ${field(t, doc, 'question', isString)}\nAnswer:`], choices: choices.text, gold, delimiter: ' ' };
  },

  /**
   * Partial scoring: each option is substituted for the blank to make a context, and the shared rest
   * of the sentence is the continuation scored under each.
   */
  winogrande(doc: Record<string, unknown>): MultipleChoiceDoc {
    const t = 'winogrande';
    const sentence = field(t, doc, 'sentence', isString);
    const blank = sentence.indexOf('_');
    if (blank < 0) throw new TaskFormatError(t, `sentence has no '_' blank: ${JSON.stringify(sentence)}`);
    const options = [field(t, doc, 'option1', isString), field(t, doc, 'option2', isString)];
    const rest = sentence.slice(blank + 1).trim();
    const answer = field(t, doc, 'answer', isString);
    return { contexts: options.map((o) => sentence.slice(0, blank) + o), choices: [rest, rest], gold: answer === '1' ? 0 : 1, delimiter: ' ' };
  },
} satisfies Record<string, (doc: Record<string, unknown>) => MultipleChoiceDoc>;

export type MultipleChoiceTask = keyof typeof multipleChoiceTasks;

/** The log-likelihood requests of one multiple-choice document, one per choice. */
export function multipleChoiceRequests(doc: MultipleChoiceDoc): LoglikelihoodRequest[] {
  return doc.choices.map((choice, i) => ({ context: doc.contexts[doc.contexts.length === 1 ? 0 : i], continuation: doc.delimiter + choice }));
}

export interface MultipleChoiceResult {
  acc: number;
  /** Accuracy when each choice's log-likelihood is divided by its length in characters. */
  accNorm: number;
  count: number;
}

function argmax(xs: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
}

/** acc and acc_norm (normalized by characters of the choice, as the harness does) from scores. */
export function scoreMultipleChoice(docs: readonly MultipleChoiceDoc[], logprobs: readonly number[][]): MultipleChoiceResult {
  let acc = 0;
  let accNorm = 0;
  docs.forEach((doc, i) => {
    const lls = logprobs[i];
    if (argmax(lls) === doc.gold) acc++;
    if (argmax(lls.map((ll, k) => ll / doc.choices[k].length)) === doc.gold) accNorm++;
  });
  return { acc: acc / docs.length, accNorm: accNorm / docs.length, count: docs.length };
}

/** Runs a multiple-choice task end to end. */
export async function evaluateMultipleChoice(
  model: ScoringModel,
  tokenizer: TextTokenizer,
  docs: readonly MultipleChoiceDoc[],
  options: { batchSize?: number } = {},
): Promise<MultipleChoiceResult> {
  const requests = docs.flatMap(multipleChoiceRequests);
  const results = await loglikelihood(model, tokenizer, requests, options);
  let k = 0;
  const logprobs = docs.map((d) => d.choices.map(() => results[k++].logprob));
  return scoreMultipleChoice(docs, logprobs);
}

/** LAMBADA (OpenAI version): the context is all but the last word; the target is ' ' + last word. */
export function lambadaRequest(doc: Record<string, unknown>): LoglikelihoodRequest {
  const text = field('lambada_openai', doc, 'text', isString);
  const words = text.split(' ');
  return { context: words.slice(0, -1).join(' '), continuation: ` ${words[words.length - 1]}` };
}

export interface LambadaResult {
  /** Fraction of documents whose last word greedy decoding gets exactly right. */
  acc: number;
  /** exp of the mean negative log-likelihood of the target word (per document, as the harness). */
  perplexity: number;
  count: number;
}

export async function evaluateLambada(
  model: ScoringModel,
  tokenizer: TextTokenizer,
  docs: readonly Record<string, unknown>[],
  options: { batchSize?: number } = {},
): Promise<LambadaResult> {
  const results = await loglikelihood(model, tokenizer, docs.map(lambadaRequest), options);
  const acc = results.filter((r) => r.isGreedy).length / results.length;
  const meanLl = results.reduce((s, r) => s + r.logprob, 0) / results.length;
  return { acc, perplexity: Math.exp(-meanLl), count: results.length };
}

/** Parses JSONL text (one JSON object per non-empty line), naming the line of a malformed record. */
export function parseJsonl(text: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch (e) {
      throw new TaskFormatError('jsonl', `line ${i + 1} is not JSON: ${(e as Error).message}`);
    }
  });
  return out;
}

/** A results table in the harness's markdown style. */
export function formatResults(rows: readonly { task: string; metric: string; value: number }[]): string {
  const lines = ['| Task | Metric | Value |', '|---|---|---:|'];
  for (const r of rows) lines.push(`| ${r.task} | ${r.metric} | ${r.value.toFixed(4)} |`);
  return lines.join('\n');
}
