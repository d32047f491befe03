import { AddedVocabulary, type AddedToken } from './added-vocabulary';
import { TokenizerError, describe } from './errors';
import { ByteStreamDecoder, type DecodeOptions, type StreamDecoder } from './stream';
import { checkId, type TextTokenizer } from './tokenizer';

export interface SimpleTokenizerOptions {
  /** Tokens matched as a whole in the text (e.g. `<|endoftext|>`), with ids after the base alphabet. */
  specialTokens?: string[];
}

function specialVocabulary(specialTokens: string[], firstId: number): AddedVocabulary {
  const tokens: AddedToken[] = specialTokens.map((content, i) => ({
    id: firstId + i,
    content,
    special: true,
    singleWord: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
  }));
  return new AddedVocabulary(tokens, null);
}

/** One id per UTF-8 byte (0–255), then the special tokens: no training, no unknown input. */
export class ByteTokenizer implements TextTokenizer {
  readonly specialTokens: readonly string[];
  readonly vocabSize: number;
  private readonly specials: AddedVocabulary;
  private readonly encoder = new TextEncoder();

  constructor(options: SimpleTokenizerOptions = {}) {
    this.specialTokens = [...(options.specialTokens ?? [])];
    this.specials = specialVocabulary([...this.specialTokens], 256);
    this.vocabSize = 256 + this.specialTokens.length;
  }

  encode(text: string): number[] {
    const ids: number[] = [];
    for (const segment of this.specials.split(text, null)) {
      if (typeof segment === 'number') ids.push(segment);
      else for (const byte of this.encoder.encode(segment)) ids.push(byte);
    }
    return ids;
  }

  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    const stream = this.decoder(options);
    let text = '';
    for (let i = 0; i < ids.length; i++) text += stream.push(ids[i]!);
    return text + stream.flush();
  }

  decoder(options: DecodeOptions = {}): StreamDecoder {
    return new ByteStreamDecoder((id) => {
      checkId(id, this.vocabSize);
      if (id < 256) return Uint8Array.of(id);
      return options.skipSpecialTokens ? null : this.encoder.encode(this.specialTokens[id - 256]!);
    });
  }

  tokenToId(token: string): number | undefined {
    const special = this.specials.idOf(token);
    if (special !== undefined) return special;
    const bytes = this.encoder.encode(token);
    return bytes.length === 1 ? bytes[0] : undefined;
  }

  /** Bytes 0–127 are their ASCII character; other bytes are written `<0xAB>`. */
  idToToken(id: number): string {
    checkId(id, this.vocabSize);
    if (id >= 256) return this.specialTokens[id - 256]!;
    return id < 128 ? String.fromCharCode(id) : `<0x${id.toString(16).toUpperCase().padStart(2, '0')}>`;
  }

  toJSON(): { type: 'ByteTokenizer'; specialTokens: string[] } {
    return { type: 'ByteTokenizer', specialTokens: [...this.specialTokens] };
  }
}

export interface CharTokenizerOptions extends SimpleTokenizerOptions {
  /** Stands for characters outside the alphabet; without it such characters are an error. */
  unkToken?: string;
}

/**
 * One id per character (Unicode code point) of a fixed alphabet, after the special tokens and the
 * optional unknown token. Build it from sample text with `CharTokenizer.fromText`.
 */
export class CharTokenizer implements TextTokenizer {
  readonly alphabet: readonly string[];
  readonly specialTokens: readonly string[];
  readonly unkToken: string | undefined;
  readonly vocabSize: number;
  private readonly idOfChar = new Map<string, number>();
  private readonly tokens: string[];
  private readonly specials: AddedVocabulary;
  private readonly unkId: number;

  constructor(alphabet: Iterable<string>, options: CharTokenizerOptions = {}) {
    this.specialTokens = [...(options.specialTokens ?? [])];
    this.unkToken = options.unkToken;
    const leading = [...this.specialTokens];
    if (this.unkToken !== undefined && !leading.includes(this.unkToken)) leading.push(this.unkToken);
    this.specials = specialVocabulary(leading, 0);
    this.unkId = this.unkToken === undefined ? -1 : leading.indexOf(this.unkToken);
    this.tokens = [...leading];
    const chars: string[] = [];
    for (const ch of alphabet) {
      if ([...ch].length !== 1) throw new TokenizerError('INVALID_ARGUMENT', `CharTokenizer alphabet: expected single characters, got ${describe(ch)}`);
      if (this.idOfChar.has(ch)) continue;
      this.idOfChar.set(ch, this.tokens.length);
      this.tokens.push(ch);
      chars.push(ch);
    }
    this.alphabet = chars;
    this.vocabSize = this.tokens.length;
  }

  /** The alphabet of `text`, sorted by code point, so the same text always gives the same ids. */
  static fromText(text: string, options: CharTokenizerOptions = {}): CharTokenizer {
    const chars = [...new Set(text)].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
    return new CharTokenizer(chars, options);
  }

  static fromJSON(json: { alphabet: string[] } & CharTokenizerOptions): CharTokenizer {
    return new CharTokenizer(json.alphabet, json);
  }

  encode(text: string): number[] {
    const ids: number[] = [];
    for (const segment of this.specials.split(text, null)) {
      if (typeof segment === 'number') {
        ids.push(segment);
        continue;
      }
      for (const ch of segment) {
        const id = this.idOfChar.get(ch);
        if (id !== undefined) ids.push(id);
        else if (this.unkId >= 0) ids.push(this.unkId);
        else throw new TokenizerError('UNKNOWN_CHARACTER', `character ${describe(ch)} (U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}) is not in the alphabet and there is no unkToken`);
      }
    }
    return ids;
  }

  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    let text = '';
    for (let i = 0; i < ids.length; i++) text += this.tokenText(ids[i]!, options);
    return text;
  }

  /** Each id is a whole character, so every push returns its text at once. */
  decoder(options: DecodeOptions = {}): StreamDecoder {
    return { push: (id) => this.tokenText(id, options), flush: () => '' };
  }

  private tokenText(id: number, options: DecodeOptions): string {
    checkId(id, this.vocabSize);
    const isSpecial = id < this.alphabetStart && id !== this.unkId;
    return options.skipSpecialTokens && isSpecial ? '' : this.tokens[id]!;
  }

  private get alphabetStart(): number {
    return this.vocabSize - this.alphabet.length;
  }

  tokenToId(token: string): number | undefined {
    return this.specials.idOf(token) ?? this.idOfChar.get(token);
  }

  idToToken(id: number): string {
    checkId(id, this.vocabSize);
    return this.tokens[id]!;
  }

  toJSON(): { type: 'CharTokenizer'; alphabet: string[]; specialTokens: string[]; unkToken?: string } {
    return { type: 'CharTokenizer', alphabet: [...this.alphabet], specialTokens: [...this.specialTokens], ...(this.unkToken !== undefined ? { unkToken: this.unkToken } : {}) };
  }
}
