import { BYTE_TO_CHAR, utf8Encode } from './bytes';
import { asArray, asBool, asObject, asString, patternToRegExp, typeOf, unsupported, type JsonObject } from './config';
import { TokenizerError } from './errors';
import { escapeRegex, translateRegex, WHITESPACE_CLASS } from './unicode';

/** Splits normalized text into words, written in the model's alphabet; empty words are dropped. */
export interface PreTokenizer {
  split(text: string, out: string[]): void;
}

const SUPPORTED = ['ByteLevel', 'Split', 'Whitespace', 'WhitespaceSplit', 'Sequence'] as const;

/** GPT-2's word pattern, which the ByteLevel pre-tokenizer uses (Oniguruma syntax, as the Rust library has it). */
export const GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

/**
 * Collects the pieces of `text` that `regex` (global) matches, in order. The ByteLevel pattern matches
 * every character, so "isolated" splitting is exactly the list of matches; gaps are kept for other patterns.
 */
function isolatedSplit(regex: RegExp, text: string, out: string[]): void {
  regex.lastIndex = 0;
  let previous = 0;
  let match: RegExpExecArray | null;
  while ((match = regex.exec(text)) !== null) {
    const start = match.index;
    const end = start + match[0].length;
    if (end === start) {
      regex.lastIndex++;
      continue;
    }
    if (start > previous) out.push(text.slice(previous, start));
    out.push(match[0]);
    previous = end;
  }
  if (previous < text.length) out.push(text.slice(previous));
}

const encodeBuffer = { bytes: new Uint8Array(1024) };

/** Writes a word as byte-level characters. */
function mapToByteLevel(word: string): string {
  if (encodeBuffer.bytes.length < word.length * 3) encodeBuffer.bytes = new Uint8Array(word.length * 3);
  const bytes = encodeBuffer.bytes;
  const n = utf8Encode(word, bytes);
  let out = '';
  for (let i = 0; i < n; i++) out += BYTE_TO_CHAR[bytes[i]!];
  return out;
}

/**
 * GPT-2's byte-level pre-tokenizer: optionally a space before the text, GPT-2's word regex, then every
 * word written as byte-level characters. `splitRaw` stops before that last step, so that the tokenizer
 * can look words up in its cache without building the byte-level string.
 */
export class ByteLevelPreTokenizer implements PreTokenizer {
  private readonly regex = new RegExp(translateRegex(GPT2_PATTERN), 'gu');

  constructor(
    readonly addPrefixSpace: boolean,
    readonly useRegex: boolean,
  ) {}

  splitRaw(text: string, out: string[]): void {
    if (this.addPrefixSpace && !text.startsWith(' ')) text = ' ' + text;
    if (!this.useRegex) {
      if (text.length > 0) out.push(text);
      return;
    }
    isolatedSplit(this.regex, text, out);
  }

  split(text: string, out: string[]): void {
    const start = out.length;
    this.splitRaw(text, out);
    for (let i = start; i < out.length; i++) out[i] = mapToByteLevel(out[i]!);
  }
}

type SplitBehavior = 'Removed' | 'Isolated' | 'MergedWithPrevious' | 'MergedWithNext' | 'Contiguous';
const BEHAVIORS: readonly SplitBehavior[] = ['Removed', 'Isolated', 'MergedWithPrevious', 'MergedWithNext', 'Contiguous'];

/** A span of the text and whether the pattern matched it. */
interface Span {
  start: number;
  end: number;
  isMatch: boolean;
}

/** The Rust library's `Split` pre-tokenizer: a pattern, what to do with its matches, optionally inverted. */
export class SplitPreTokenizer implements PreTokenizer {
  constructor(
    private readonly regex: RegExp,
    private readonly behavior: SplitBehavior,
    private readonly invert: boolean,
  ) {}

  private spans(text: string): Span[] {
    const spans: Span[] = [];
    const regex = this.regex;
    regex.lastIndex = 0;
    let previous = 0;
    let match: RegExpExecArray | null;
    while ((match = regex.exec(text)) !== null) {
      const start = match.index;
      const end = start + match[0].length;
      if (end === start) {
        regex.lastIndex++;
        continue;
      }
      if (start > previous) spans.push({ start: previous, end: start, isMatch: this.invert });
      spans.push({ start, end, isMatch: !this.invert });
      previous = end;
    }
    if (previous < text.length) spans.push({ start: previous, end: text.length, isMatch: this.invert });
    return spans;
  }

  split(text: string, out: string[]): void {
    const spans = this.spans(text);
    const kept: Array<[number, number]> = [];
    switch (this.behavior) {
      case 'Removed':
        for (const s of spans) if (!s.isMatch) kept.push([s.start, s.end]);
        break;
      case 'Isolated':
        for (const s of spans) kept.push([s.start, s.end]);
        break;
      case 'Contiguous': {
        let previousMatch = false;
        for (const s of spans) {
          const last = kept[kept.length - 1];
          if (s.isMatch === previousMatch && last) last[1] = s.end;
          else kept.push([s.start, s.end]);
          previousMatch = s.isMatch;
        }
        break;
      }
      case 'MergedWithPrevious': {
        let previousMatch = false;
        for (const s of spans) {
          const last = kept[kept.length - 1];
          if (s.isMatch && !previousMatch && last) last[1] = s.end;
          else kept.push([s.start, s.end]);
          previousMatch = s.isMatch;
        }
        break;
      }
      case 'MergedWithNext': {
        let nextMatch = false;
        for (let i = spans.length - 1; i >= 0; i--) {
          const s = spans[i]!;
          const last = kept[kept.length - 1];
          if (s.isMatch && !nextMatch && last) last[0] = s.start;
          else kept.push([s.start, s.end]);
          nextMatch = s.isMatch;
        }
        kept.reverse();
        break;
      }
    }
    for (const [start, end] of kept) if (end > start) out.push(text.slice(start, end));
  }
}

/** Oniguruma's `\w`: letters, marks, decimal digits and connector punctuation. */
const WORD = '\\p{L}\\p{M}\\p{Nd}\\p{Pc}';

class SequencePreTokenizer implements PreTokenizer {
  constructor(private readonly steps: PreTokenizer[]) {}
  split(text: string, out: string[]): void {
    let pieces = [text];
    for (const step of this.steps) {
      const next: string[] = [];
      for (const piece of pieces) step.split(piece, next);
      pieces = next;
    }
    for (const piece of pieces) out.push(piece);
  }
}

/** Builds the pre-tokenizer a tokenizer.json describes; `null` means none. */
export function preTokenizerFromConfig(value: unknown, where = 'pre_tokenizer'): PreTokenizer | null {
  if (value === null || value === undefined) return null;
  const config: JsonObject = asObject(value, where);
  const type = typeOf(config, where);
  switch (type) {
    case 'ByteLevel':
      return new ByteLevelPreTokenizer(
        asBool(config.add_prefix_space, `${where}.add_prefix_space`, true),
        asBool(config.use_regex, `${where}.use_regex`, true),
      );
    case 'Split': {
      const behavior = asString(config.behavior, `${where}.behavior`) as SplitBehavior;
      if (!BEHAVIORS.includes(behavior)) {
        throw new TokenizerError('UNSUPPORTED', `${where}.behavior: expected one of ${BEHAVIORS.join(', ')}, got "${behavior}"`);
      }
      const regex = patternToRegExp(config.pattern, `${where}.pattern`, translateRegex, escapeRegex);
      return new SplitPreTokenizer(regex, behavior, asBool(config.invert, `${where}.invert`, false));
    }
    case 'Whitespace':
      return new SplitPreTokenizer(new RegExp(`[${WORD}]+|[^${WORD}${WHITESPACE_CLASS}]+`, 'gu'), 'Removed', true);
    case 'WhitespaceSplit':
      return new SplitPreTokenizer(new RegExp(`[${WHITESPACE_CLASS}]+`, 'gu'), 'Removed', false);
    case 'Sequence':
      return new SequencePreTokenizer(
        asArray(config.pretokenizers, `${where}.pretokenizers`).map((step, i) => {
          const inner = preTokenizerFromConfig(step, `${where}.pretokenizers[${i}]`);
          if (!inner) throw new TokenizerError('MALFORMED_JSON', `${where}.pretokenizers[${i}]: expected a pre-tokenizer, got null`);
          return inner;
        }),
      );
    default:
      throw unsupported('pre-tokenizer', type, SUPPORTED);
  }
}
