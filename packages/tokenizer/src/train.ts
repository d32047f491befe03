import { AddedVocabulary } from './added-vocabulary';
import { BYTE_TO_CHAR } from './bytes';
import { TokenizerError, describe } from './errors';
import { ByteLevelPreTokenizer } from './pre-tokenizers';
import { Tokenizer } from './tokenizer';

export interface TrainBpeOptions {
  /** Size of the final vocabulary: special tokens + 256 byte symbols + merges. */
  vocabSize: number;
  /** Pairs seen fewer times than this are not merged (training stops early). Default 2. */
  minFrequency?: number;
  /** Tokens with the first ids, matched whole in text and never split (e.g. `<|endoftext|>`). */
  specialTokens?: string[];
  /** Put a space before each text, as GPT-2's `add_prefix_space`. Default false (GPT-NeoX). */
  addPrefixSpace?: boolean;
}

/** A pair of token ids as one Map key (ids stay far below 2^26). */
const pairKey = (a: number, b: number) => a * 0x4000000 + b;

/**
 * Trains a byte-level BPE tokenizer (NFC normalizer, GPT-2 word regex, byte-level alphabet) on `texts`,
 * the way the Rust library's BpeTrainer does: repeatedly merge the most frequent adjacent pair
 * (ties: the pair of smaller ids) until the vocabulary is full or no pair reaches `minFrequency`.
 * Deterministic: the same texts and options always give the same tokenizer. `toJSON()` of the result is a
 * tokenizer.json that the Rust library loads and encodes identically.
 */
export function trainBpe(texts: Iterable<string>, options: TrainBpeOptions): Tokenizer {
  const specialTokens = options.specialTokens ?? [];
  const minFrequency = options.minFrequency ?? 2;
  const alphabetStart = specialTokens.length;
  const minimum = alphabetStart + 256;
  if (!Number.isInteger(options.vocabSize) || options.vocabSize < minimum) {
    throw new TokenizerError('INVALID_ARGUMENT', `trainBpe: vocabSize must be an integer ≥ ${minimum} (special tokens + 256 bytes), got ${describe(options.vocabSize)}`);
  }
  if (new Set(specialTokens).size !== specialTokens.length || specialTokens.some((t) => t.length === 0)) {
    throw new TokenizerError('INVALID_ARGUMENT', `trainBpe: specialTokens must be distinct and non-empty, got ${describe(specialTokens)}`);
  }

  // Vocabulary: special tokens, then the 256 byte symbols sorted by character, then merges in order.
  const tokens: string[] = [...specialTokens];
  const byteChars = [...BYTE_TO_CHAR].sort((x, y) => x.charCodeAt(0) - y.charCodeAt(0));
  tokens.push(...byteChars);
  const idOf = new Map<string, number>(tokens.map((t, i) => [t, i]));
  const byteId = BYTE_TO_CHAR.map((ch) => idOf.get(ch)!);

  // Count words exactly as encode will see them: special tokens cut out, NFC, GPT-2 regex.
  const addPrefixSpace = options.addPrefixSpace ?? false;
  const pre = new ByteLevelPreTokenizer(addPrefixSpace, true);
  const specials = new AddedVocabulary(
    specialTokens.map((content, id) => ({ id, content, special: true, singleWord: false, lstrip: false, rstrip: false, normalized: false })),
    null,
  );
  const nfc = { normalize: (text: string) => text.normalize('NFC') };
  const wordCounts = new Map<string, number>();
  const pieces: string[] = [];
  for (const text of texts) {
    for (const segment of specials.split(text, nfc)) {
      if (typeof segment === 'number') continue;
      pieces.length = 0;
      pre.splitRaw(segment, pieces);
      for (const piece of pieces) wordCounts.set(piece, (wordCounts.get(piece) ?? 0) + 1);
    }
  }
  const encoder = new TextEncoder();
  const words: number[][] = [];
  const counts: number[] = [];
  for (const [word, count] of wordCounts) {
    words.push([...encoder.encode(word)].map((b) => byteId[b]!));
    counts.push(count);
  }

  // How often each adjacent pair occurs, and in which words.
  const pairCount = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  const addPairs = (w: number, sign: number, delta: Map<number, number> | null) => {
    const symbols = words[w]!;
    const c = counts[w]! * sign;
    for (let i = 0; i + 1 < symbols.length; i++) {
      const key = pairKey(symbols[i]!, symbols[i + 1]!);
      pairCount.set(key, (pairCount.get(key) ?? 0) + c);
      if (delta) delta.set(key, (delta.get(key) ?? 0) + c);
      if (sign > 0) {
        let where = pairWords.get(key);
        if (!where) pairWords.set(key, (where = new Set()));
        where.add(w);
      }
    }
  };
  for (let w = 0; w < words.length; w++) addPairs(w, 1, null);

  const queue = new PairQueue();
  for (const [key, count] of pairCount) queue.push(count, key);

  const merges: Array<[string, string]> = [];
  while (tokens.length < options.vocabSize && queue.size > 0) {
    const top = queue.pop();
    const current = pairCount.get(top.key) ?? 0;
    if (current !== top.count) {
      // Stale entry: counts only fall for existing pairs, so re-queue with the true count.
      if (current > 0) queue.push(current, top.key);
      continue;
    }
    if (current < minFrequency || current <= 0) break;
    const a = Math.floor(top.key / 0x4000000);
    const b = top.key % 0x4000000;
    const merged = tokens[a]! + tokens[b]!;
    let made = idOf.get(merged);
    if (made === undefined) {
      made = tokens.length;
      tokens.push(merged);
      idOf.set(merged, made);
    }
    merges.push([tokens[a]!, tokens[b]!]);

    const delta = new Map<number, number>();
    for (const w of pairWords.get(top.key) ?? []) {
      const symbols = words[w]!;
      if (!containsPair(symbols, a, b)) continue;
      addPairs(w, -1, delta);
      words[w] = mergePair(symbols, a, b, made);
      addPairs(w, 1, delta);
    }
    pairWords.delete(top.key);
    for (const [key, change] of delta) if (change > 0) queue.push(pairCount.get(key)!, key);
  }

  const vocab: Record<string, number> = {};
  tokens.forEach((t, i) => (vocab[t] = i));
  const byteLevel = { type: 'ByteLevel', add_prefix_space: addPrefixSpace, trim_offsets: true, use_regex: true };
  return Tokenizer.fromJSON({
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specialTokens.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: { type: 'NFC' },
    pre_tokenizer: byteLevel,
    post_processor: byteLevel,
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges,
    },
  });
}

function containsPair(symbols: number[], a: number, b: number): boolean {
  for (let i = 0; i + 1 < symbols.length; i++) if (symbols[i] === a && symbols[i + 1] === b) return true;
  return false;
}

/** Replaces each (a, b), left to right without overlaps, by `made`. */
function mergePair(symbols: number[], a: number, b: number, made: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < symbols.length; i++) {
    if (i + 1 < symbols.length && symbols[i] === a && symbols[i + 1] === b) {
      out.push(made);
      i++;
    } else out.push(symbols[i]!);
  }
  return out;
}

/** Max-heap of (count, pair) with ties broken towards the smaller pair key (smaller ids). */
class PairQueue {
  private counts: number[] = [];
  private keys: number[] = [];

  get size(): number {
    return this.counts.length;
  }

  private above(i: number, j: number): boolean {
    const ci = this.counts[i]!;
    const cj = this.counts[j]!;
    return ci > cj || (ci === cj && this.keys[i]! < this.keys[j]!);
  }

  private swap(i: number, j: number): void {
    [this.counts[i], this.counts[j]] = [this.counts[j]!, this.counts[i]!];
    [this.keys[i], this.keys[j]] = [this.keys[j]!, this.keys[i]!];
  }

  push(count: number, key: number): void {
    this.counts.push(count);
    this.keys.push(key);
    let i = this.counts.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.above(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  pop(): { count: number; key: number } {
    const top = { count: this.counts[0]!, key: this.keys[0]! };
    const lastCount = this.counts.pop()!;
    const lastKey = this.keys.pop()!;
    if (this.counts.length > 0) {
      this.counts[0] = lastCount;
      this.keys[0] = lastKey;
      let i = 0;
      while (true) {
        const left = 2 * i + 1;
        if (left >= this.counts.length) break;
        const right = left + 1;
        const child = right < this.counts.length && this.above(right, left) ? right : left;
        if (!this.above(child, i)) break;
        this.swap(i, child);
        i = child;
      }
    }
    return top;
  }
}
