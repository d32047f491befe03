import { asBool, asId, asObject, asString } from './config';
import type { Normalizer } from './normalizers';
import { isWhitespace, isWordChar } from './unicode';

/** A token matched in the text as a whole before the model sees it (tokenizer.json's `added_tokens`). */
export interface AddedToken {
  id: number;
  content: string;
  /** Special tokens are skipped by `decode(ids, { skipSpecialTokens: true })`. */
  special: boolean;
  /** Matched only where it is not inside a word. */
  singleWord: boolean;
  /** Takes the whitespace on its left (lstrip) or right (rstrip) with it. */
  lstrip: boolean;
  rstrip: boolean;
  /** Matched in the normalized text (true) or in the text as given (false). */
  normalized: boolean;
}

export function addedTokenFromConfig(value: unknown, where: string): AddedToken {
  const config = asObject(value, where);
  const special = asBool(config.special, `${where}.special`, false);
  return {
    id: asId(config.id, `${where}.id`),
    content: asString(config.content, `${where}.content`),
    special,
    singleWord: asBool(config.single_word, `${where}.single_word`, false),
    lstrip: asBool(config.lstrip, `${where}.lstrip`, false),
    rstrip: asBool(config.rstrip, `${where}.rstrip`, false),
    normalized: asBool(config.normalized, `${where}.normalized`, !special),
  };
}

export function addedTokenToConfig(token: AddedToken): Record<string, unknown> {
  return {
    id: token.id,
    content: token.content,
    single_word: token.singleWord,
    lstrip: token.lstrip,
    rstrip: token.rstrip,
    normalized: token.normalized,
    special: token.special,
  };
}

/**
 * The ids the Rust library gives added tokens when it loads a tokenizer.json. It does not take the file's
 * ids (it only warns when they differ): it adds the tokens in order, and a token whose text is already known
 * (added before, or in the model's vocabulary) gets that id, a new one the next id after the vocabulary.
 * A repeated text replaces the earlier token's flags; empty texts are ignored. Returned by ascending id.
 */
export function assignAddedIds(tokens: readonly AddedToken[], modelIdOf: (content: string) => number | undefined, modelVocabCount: number): AddedToken[] {
  const idOfContent = new Map<string, number>();
  const byId = new Map<number, AddedToken>();
  let next = modelVocabCount;
  for (const token of tokens) {
    if (token.content.length === 0) continue;
    let id = idOfContent.get(token.content) ?? modelIdOf(token.content);
    if (id === undefined) id = next++;
    idOfContent.set(token.content, id);
    byId.set(id, { ...token, id });
  }
  return [...byId.values()].sort((a, b) => a.id - b.id);
}

interface TrieNode {
  children: Map<number, TrieNode>;
  /** Index of the token that ends here, or -1. */
  token: number;
}

/** Finds tokens in text leftmost-longest, as the Rust library's Aho-Corasick automaton does. */
class TokenTrie {
  private readonly root: TrieNode = { children: new Map(), token: -1 };
  /** Marks the UTF-16 units that start some token: most characters are rejected by one array read. */
  private readonly firstUnits = new Uint8Array(0x10000);
  private count = 0;

  add(pattern: string, token: number): void {
    if (pattern.length === 0) return;
    let node = this.root;
    for (let i = 0; i < pattern.length; i++) {
      const unit = pattern.charCodeAt(i);
      let child = node.children.get(unit);
      if (!child) {
        child = { children: new Map(), token: -1 };
        node.children.set(unit, child);
      }
      node = child;
    }
    // The first token with this text wins, as the Rust library keeps the first pattern.
    if (node.token < 0) node.token = token;
    this.firstUnits[pattern.charCodeAt(0)] = 1;
    this.count++;
  }

  get empty(): boolean {
    return this.count === 0;
  }

  /** Calls `found(token, start, end)` for each leftmost-longest, non-overlapping match. */
  scan(text: string, found: (token: number, start: number, end: number) => void): void {
    const n = text.length;
    for (let i = 0; i < n; ) {
      if (this.firstUnits[text.charCodeAt(i)] === 0) {
        i++;
        continue;
      }
      let node: TrieNode | undefined = this.root;
      let token = -1;
      let end = -1;
      for (let j = i; j < n; j++) {
        node = node.children.get(text.charCodeAt(j));
        if (!node) break;
        if (node.token >= 0) {
          token = node.token;
          end = j + 1;
        }
      }
      if (token < 0) {
        i++;
        continue;
      }
      found(token, i, end);
      i = end;
    }
  }
}

/** A piece of the text on its way through encode: plain text still to tokenize, or an added token's id. */
export type Segment = string | number;

function codePointBefore(text: string, index: number): number {
  const low = text.charCodeAt(index - 1);
  if (low >= 0xdc00 && low <= 0xdfff && index >= 2) {
    const high = text.charCodeAt(index - 2);
    if (high >= 0xd800 && high <= 0xdbff) return text.codePointAt(index - 2)!;
  }
  return low;
}

/**
 * The added tokens of a tokenizer and how they cut text: tokens with `normalized: false` are found in the
 * text as given, then each remaining piece is normalized and searched for the normalized tokens.
 */
export class AddedVocabulary {
  readonly tokens: AddedToken[];
  private readonly byContent = new Map<string, AddedToken>();
  private readonly specialContents = new Set<string>();
  private readonly byId = new Map<number, AddedToken>();
  private readonly rawTrie = new TokenTrie();
  private readonly normalizedTrie = new TokenTrie();

  constructor(tokens: AddedToken[], normalizer: Normalizer | null) {
    this.tokens = tokens;
    tokens.forEach((token, index) => {
      if (!this.byContent.has(token.content)) this.byContent.set(token.content, token);
      this.byId.set(token.id, token);
      if (token.special) this.specialContents.add(token.content);
      if (token.normalized) this.normalizedTrie.add(normalizer ? normalizer.normalize(token.content) : token.content, index);
      else this.rawTrie.add(token.content, index);
    });
  }

  idOf(content: string): number | undefined {
    return this.byContent.get(content)?.id;
  }

  tokenOf(id: number): AddedToken | undefined {
    return this.byId.get(id);
  }

  /** Whether decode's skipSpecialTokens drops this token text (the Rust library decides by text, not id). */
  isSpecial(token: string): boolean {
    return this.specialContents.has(token);
  }

  /** Cuts `text` into plain pieces and added-token ids; normalizes the plain pieces on the way. */
  split(text: string, normalizer: Normalizer | null): Segment[] {
    const out: Segment[] = [];
    for (const piece of this.splitWith(this.rawTrie, text)) {
      if (typeof piece === 'number') {
        out.push(piece);
        continue;
      }
      const normalized = normalizer ? normalizer.normalize(piece) : piece;
      for (const inner of this.splitWith(this.normalizedTrie, normalized)) out.push(inner);
    }
    return out;
  }

  /** One pass of the Rust library's `find_matches`, honouring single_word, lstrip and rstrip. */
  private splitWith(trie: TokenTrie, text: string): Segment[] {
    if (trie.empty || text.length === 0) return text.length === 0 ? [] : [text];
    const out: Segment[] = [];
    let offset = 0;
    trie.scan(text, (index, matchStart, matchEnd) => {
      const token = this.tokens[index]!;
      let start = matchStart;
      let end = matchEnd;
      if (token.singleWord) {
        const wordBefore = start > 0 && isWordChar(codePointBefore(text, start));
        const wordAfter = end < text.length && isWordChar(text.codePointAt(end)!);
        if (wordBefore || wordAfter) return;
      }
      if (token.lstrip) {
        let s = start;
        while (s > 0) {
          const cp = codePointBefore(text, s);
          if (!isWhitespace(cp)) break;
          s -= cp > 0xffff ? 2 : 1;
        }
        start = Math.max(s, offset);
      }
      if (token.rstrip) {
        while (end < text.length) {
          const cp = text.codePointAt(end)!;
          if (!isWhitespace(cp)) break;
          end += cp > 0xffff ? 2 : 1;
        }
      }
      if (offset < start) out.push(text.slice(offset, start));
      out.push(token.id);
      offset = end;
    });
    if (offset < text.length) out.push(text.slice(offset));
    return out;
  }
}
