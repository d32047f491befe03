import { BYTE_TO_CHAR, utf8Encode } from './bytes';
import { asArray, asBool, asId, asObject, asString, type JsonObject } from './config';
import { TokenizerError, describe } from './errors';
import { PairTable } from './pair-table';

const NO_MERGE = 0x7fffffff;

/** Words longer than this (in symbols) merge with a heap; shorter ones with a rescan, which is faster there. */
const HEAP_THRESHOLD = 64;
/** Words longer than this (in UTF-16 units) are not cached: they are rare and would crowd the cache. */
const MAX_CACHED_WORD = 256;
const CACHE_CAPACITY = 50_000;

/** Scratch arrays shared by all merges of short words, so a merge allocates only its result. */
let scratchRank = new Int32Array(256);
let scratchMade = new Int32Array(256);
let scratchBytes = new Uint8Array(1024);

export interface BpeOptions {
  unkToken?: string | null;
  continuingSubwordPrefix?: string | null;
  endOfWordSuffix?: string | null;
  fuseUnk?: boolean;
  byteFallback?: boolean;
  ignoreMerges?: boolean;
}

/**
 * Byte-pair encoding with ranked merges, as the Rust library's `BPE` model: a word starts as its
 * characters and the adjacent pair of lowest merge rank (leftmost among equals) merges until none is left.
 */
export class BpeModel {
  readonly vocab: Map<string, number>;
  /** Token of each id; ids the vocabulary skips are undefined. */
  readonly tokens: (string | undefined)[];
  readonly merges: Array<[string, string]>;
  readonly options: Required<BpeOptions>;
  private readonly pairs: PairTable;
  private readonly unkId: number;
  /** Id of each byte's byte-level character, or -1 when the vocabulary lacks it. */
  private readonly byteIds = new Int32Array(256);
  private readonly byteLevelReady: boolean;
  /** Ids of words seen before, by word in the model's alphabet (tokenize) and by raw text (tokenizeRaw). */
  private readonly cache = new Map<string, number[]>();
  private readonly rawCache = new Map<string, number[]>();

  constructor(vocab: Map<string, number>, merges: Array<[string, string]>, options: BpeOptions = {}) {
    this.vocab = vocab;
    this.merges = merges;
    this.options = {
      unkToken: options.unkToken ?? null,
      continuingSubwordPrefix: options.continuingSubwordPrefix ?? null,
      endOfWordSuffix: options.endOfWordSuffix ?? null,
      fuseUnk: options.fuseUnk ?? false,
      byteFallback: options.byteFallback ?? false,
      ignoreMerges: options.ignoreMerges ?? false,
    };
    this.tokens = [];
    for (const [token, id] of vocab) this.tokens[id] = token;

    const prefix = this.options.continuingSubwordPrefix ?? '';
    this.pairs = new PairTable(merges.length);
    merges.forEach(([a, b], rank) => {
      const left = vocab.get(a);
      const right = vocab.get(b);
      const made = vocab.get(a + (b.startsWith(prefix) ? b.slice(prefix.length) : b));
      if (left === undefined || right === undefined || made === undefined) {
        const missing = left === undefined ? a : right === undefined ? b : a + b.slice(prefix.length);
        throw new TokenizerError('INVALID_CONFIG', `merge ${rank} ${describe([a, b])}: token ${describe(missing)} is not in the vocabulary`);
      }
      this.pairs.set(left, right, rank, made);
    });

    const unk = this.options.unkToken;
    this.unkId = unk === null ? -1 : (vocab.get(unk) ?? -1);
    if (unk !== null && this.unkId < 0) {
      throw new TokenizerError('INVALID_CONFIG', `unk_token ${describe(unk)} is not in the vocabulary`);
    }
    let allBytes = true;
    for (let b = 0; b < 256; b++) {
      this.byteIds[b] = vocab.get(BYTE_TO_CHAR[b]!) ?? -1;
      if (this.byteIds[b]! < 0) allBytes = false;
    }
    this.byteLevelReady =
      allBytes && prefix === '' && this.options.endOfWordSuffix === null && !this.options.ignoreMerges;
  }

  static fromConfig(config: JsonObject, where = 'model'): BpeModel {
    if (config.dropout !== null && config.dropout !== undefined && config.dropout !== 0) {
      throw new TokenizerError('UNSUPPORTED', `${where}.dropout: BPE dropout is not supported (got ${describe(config.dropout)})`);
    }
    const vocabObject = asObject(config.vocab, `${where}.vocab`);
    const vocab = new Map<string, number>();
    for (const token of Object.keys(vocabObject)) vocab.set(token, asId(vocabObject[token], `${where}.vocab[${describe(token)}]`));
    const merges = asArray(config.merges ?? [], `${where}.merges`).map((merge, i) => parseMerge(merge, `${where}.merges[${i}]`));
    const optionalString = (key: string) => (config[key] === null || config[key] === undefined ? null : asString(config[key], `${where}.${key}`));
    return new BpeModel(vocab, merges, {
      unkToken: optionalString('unk_token'),
      continuingSubwordPrefix: optionalString('continuing_subword_prefix'),
      endOfWordSuffix: optionalString('end_of_word_suffix'),
      fuseUnk: asBool(config.fuse_unk, `${where}.fuse_unk`, false),
      byteFallback: asBool(config.byte_fallback, `${where}.byte_fallback`, false),
      ignoreMerges: asBool(config.ignore_merges, `${where}.ignore_merges`, false),
    });
  }

  toConfig(): JsonObject {
    const vocab: Record<string, number> = {};
    for (const [token, id] of [...this.vocab].sort((x, y) => x[1] - y[1])) vocab[token] = id;
    return {
      type: 'BPE',
      dropout: null,
      unk_token: this.options.unkToken,
      continuing_subword_prefix: this.options.continuingSubwordPrefix,
      end_of_word_suffix: this.options.endOfWordSuffix,
      fuse_unk: this.options.fuseUnk,
      byte_fallback: this.options.byteFallback,
      ignore_merges: this.options.ignoreMerges,
      vocab,
      merges: this.merges.map(([a, b]) => [a, b]),
    };
  }

  /** One more than the largest id of the vocabulary. */
  get size(): number {
    return this.tokens.length;
  }

  /** Appends the ids of one pre-tokenized word (in the model's alphabet) to `out`. */
  tokenize(word: string, out: number[]): void {
    if (word.length === 0) return;
    if (this.options.ignoreMerges) {
      const whole = this.vocab.get(word);
      if (whole !== undefined) {
        out.push(whole);
        return;
      }
    }
    let ids = this.cache.get(word);
    if (ids === undefined) {
      ids = this.mergeWord(this.initialSymbols(word));
      remember(this.cache, word, ids);
    }
    for (let i = 0; i < ids.length; i++) out.push(ids[i]!);
  }

  /**
   * The same as `tokenize(toByteLevel(raw))`, without building the byte-level string when the
   * word is cached or when every byte has its own token (GPT-2 style files).
   */
  tokenizeRaw(raw: string, out: number[]): void {
    let ids = this.rawCache.get(raw);
    if (ids === undefined) {
      if (raw.length === 0) return;
      if (scratchBytes.length < raw.length * 3) scratchBytes = new Uint8Array(raw.length * 3);
      const n = utf8Encode(raw, scratchBytes);
      if (this.byteLevelReady) {
        const symbols = new Array<number>(n);
        for (let i = 0; i < n; i++) symbols[i] = this.byteIds[scratchBytes[i]!]!;
        ids = this.mergeWord(symbols);
      } else {
        let word = '';
        for (let i = 0; i < n; i++) word += BYTE_TO_CHAR[scratchBytes[i]!];
        const whole = this.options.ignoreMerges ? this.vocab.get(word) : undefined;
        ids = whole !== undefined ? [whole] : this.mergeWord(this.initialSymbols(word));
      }
      remember(this.rawCache, raw, ids);
    }
    for (let i = 0; i < ids.length; i++) out.push(ids[i]!);
  }

  /** The word's characters as ids, with the subword prefix/suffix, byte fallback and unknown tokens applied. */
  private initialSymbols(word: string): number[] {
    const { continuingSubwordPrefix: prefix, endOfWordSuffix: suffix, fuseUnk, byteFallback } = this.options;
    const symbols: number[] = [];
    let pendingUnk = false;
    for (let i = 0; i < word.length; ) {
      const cp = word.codePointAt(i)!;
      const end = i + (cp > 0xffff ? 2 : 1);
      let piece = word.slice(i, end);
      if (prefix !== null && i > 0) piece = prefix + piece;
      if (suffix !== null && end === word.length) piece = piece + suffix;
      i = end;
      const id = this.vocab.get(piece);
      if (id !== undefined) {
        if (pendingUnk) symbols.push(this.unkId);
        pendingUnk = false;
        symbols.push(id);
        continue;
      }
      if (byteFallback) {
        const bytes = new TextEncoder().encode(String.fromCodePoint(cp));
        const byteTokens = [...bytes].map((b) => this.vocab.get(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`));
        if (byteTokens.every((t) => t !== undefined)) {
          if (pendingUnk) symbols.push(this.unkId);
          pendingUnk = false;
          symbols.push(...(byteTokens as number[]));
          continue;
        }
      }
      // Without an unknown token the Rust library drops the character; with one, fuse_unk joins runs of them.
      if (this.unkId >= 0) {
        if (pendingUnk && !fuseUnk) symbols.push(this.unkId);
        pendingUnk = true;
      }
    }
    if (pendingUnk) symbols.push(this.unkId);
    return symbols;
  }

  /** Applies the merges to a word's symbols (which it may overwrite) and returns the final ids. */
  mergeWord(symbols: number[]): number[] {
    if (symbols.length < 2) return symbols;
    return symbols.length > HEAP_THRESHOLD ? this.mergeWithHeap(symbols) : this.mergeByRescan(symbols);
  }

  /**
   * Keeps the rank of every adjacent pair in an array and rescans it for the minimum after each merge:
   * quadratic in the word's length but with no allocation, the fastest way for ordinary words.
   */
  mergeByRescan(ids: number[]): number[] {
    let n = ids.length;
    if (scratchRank.length < n) {
      scratchRank = new Int32Array(n * 2);
      scratchMade = new Int32Array(n * 2);
    }
    const rank = scratchRank;
    const made = scratchMade;
    const pairs = this.pairs;
    /** Looks up the merge of the pair starting at i (there must be one more symbol after it). */
    const rerank = (i: number) => {
      const slot = pairs.find(ids[i]!, ids[i + 1]!);
      rank[i] = slot < 0 ? NO_MERGE : pairs.slotRank(slot);
      made[i] = slot < 0 ? 0 : pairs.slotMade(slot);
    };
    for (let i = 0; i + 1 < n; i++) rerank(i);
    while (n > 1) {
      let best = NO_MERGE;
      let at = -1;
      for (let i = 0; i + 1 < n; i++) {
        if (rank[i]! < best) {
          best = rank[i]!;
          at = i;
        }
      }
      if (at < 0) break;
      ids[at] = made[at]!;
      // Close the gap left by the right symbol.
      for (let i = at + 1; i + 1 < n; i++) {
        ids[i] = ids[i + 1]!;
        rank[i] = rank[i + 1]!;
        made[i] = made[i + 1]!;
      }
      n--;
      if (at > 0) rerank(at - 1);
      if (at + 1 < n) rerank(at);
    }
    ids.length = n;
    return ids;
  }

  /**
   * The Rust library's algorithm: symbols in a doubly linked list, candidate merges in a binary heap
   * ordered by (rank, position); entries that a neighbouring merge made stale are skipped when popped.
   * O(n log n) in the word's length, so a 100 KB word takes milliseconds, not minutes.
   */
  mergeWithHeap(ids: number[]): number[] {
    const n = ids.length;
    const pairs = this.pairs;
    const symbol = Int32Array.from(ids);
    const prev = new Int32Array(n);
    const next = new Int32Array(n);
    const removed = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      prev[i] = i - 1;
      next[i] = i + 1 < n ? i + 1 : -1;
    }
    const heap = new MergeHeap(n);
    for (let i = 0; i + 1 < n; i++) {
      const slot = pairs.find(symbol[i]!, symbol[i + 1]!);
      if (slot >= 0) heap.push(pairs.slotRank(slot), i, pairs.slotMade(slot));
    }
    while (heap.size > 0) {
      const at = heap.topPosition();
      const expected = heap.topMade();
      heap.pop();
      if (removed[at]) continue;
      const right = next[at]!;
      if (right < 0) continue;
      if (pairs.madeOf(symbol[at]!, symbol[right]!) !== expected) continue;

      symbol[at] = expected;
      removed[right] = 1;
      const after = next[right]!;
      next[at] = after;
      if (after >= 0) prev[after] = at;

      const before = prev[at]!;
      if (before >= 0) {
        const slot = pairs.find(symbol[before]!, symbol[at]!);
        if (slot >= 0) heap.push(pairs.slotRank(slot), before, pairs.slotMade(slot));
      }
      if (after >= 0) {
        const slot = pairs.find(symbol[at]!, symbol[after]!);
        if (slot >= 0) heap.push(pairs.slotRank(slot), at, pairs.slotMade(slot));
      }
    }
    const out: number[] = [];
    for (let i = 0; i >= 0; i = next[i]!) out.push(symbol[i]!);
    return out;
  }
}

function remember(cache: Map<string, number[]>, word: string, ids: number[]): void {
  if (word.length > MAX_CACHED_WORD) return;
  // Dropping everything is crude but cheap, and real text refills the frequent words at once.
  if (cache.size >= CACHE_CAPACITY) cache.clear();
  cache.set(word, ids);
}

/** A binary min-heap of candidate merges ordered by (rank, position), in typed arrays. */
class MergeHeap {
  private rank: Int32Array;
  private position: Int32Array;
  private made: Int32Array;
  size = 0;

  constructor(capacity: number) {
    this.rank = new Int32Array(Math.max(16, capacity));
    this.position = new Int32Array(this.rank.length);
    this.made = new Int32Array(this.rank.length);
  }

  private before(i: number, j: number): boolean {
    const ri = this.rank[i]!;
    const rj = this.rank[j]!;
    return ri < rj || (ri === rj && this.position[i]! < this.position[j]!);
  }

  private swap(i: number, j: number): void {
    const r = this.rank[i]!;
    const p = this.position[i]!;
    const m = this.made[i]!;
    this.rank[i] = this.rank[j]!;
    this.position[i] = this.position[j]!;
    this.made[i] = this.made[j]!;
    this.rank[j] = r;
    this.position[j] = p;
    this.made[j] = m;
  }

  push(rank: number, position: number, made: number): void {
    if (this.size === this.rank.length) {
      const grow = (a: Int32Array) => {
        const b = new Int32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.rank = grow(this.rank);
      this.position = grow(this.position);
      this.made = grow(this.made);
    }
    let i = this.size++;
    this.rank[i] = rank;
    this.position[i] = position;
    this.made[i] = made;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  topPosition(): number {
    return this.position[0]!;
  }

  topMade(): number {
    return this.made[0]!;
  }

  pop(): void {
    const last = --this.size;
    if (last === 0) return;
    this.rank[0] = this.rank[last]!;
    this.position[0] = this.position[last]!;
    this.made[0] = this.made[last]!;
    let i = 0;
    while (true) {
      const left = 2 * i + 1;
      if (left >= last) break;
      const right = left + 1;
      const child = right < last && this.before(right, left) ? right : left;
      if (!this.before(child, i)) break;
      this.swap(i, child);
      i = child;
    }
  }
}

/** A merge as the list form ["a", "b"] or the older string form "a b". */
function parseMerge(merge: unknown, where: string): [string, string] {
  if (typeof merge === 'string') {
    const space = merge.indexOf(' ');
    if (space < 0 || merge.indexOf(' ', space + 1) >= 0) {
      throw new TokenizerError('MALFORMED_JSON', `${where}: expected "left right" with one space, got ${describe(merge)}`);
    }
    return [merge.slice(0, space), merge.slice(space + 1)];
  }
  if (Array.isArray(merge) && merge.length === 2 && typeof merge[0] === 'string' && typeof merge[1] === 'string') {
    return [merge[0], merge[1]];
  }
  throw new TokenizerError('MALFORMED_JSON', `${where}: expected ["left", "right"] or "left right", got ${describe(merge)}`);
}
