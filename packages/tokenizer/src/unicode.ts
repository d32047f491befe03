import { TokenizerError, describe } from './errors';

/**
 * Character classes as the Rust `tokenizers` library sees them. JavaScript's `\s` differs from Rust's
 * `char::is_whitespace` and Oniguruma's `\s` (Unicode White_Space): it adds U+FEFF and lacks U+0085.
 */
export const WHITESPACE_CLASS = '\\t-\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

const whitespaceChar = new RegExp(`^[${WHITESPACE_CLASS}]$`, 'u');

/** Rust's `char::is_whitespace` for one code point. */
export function isWhitespace(codePoint: number): boolean {
  if (codePoint < 0x80) return codePoint === 0x20 || (codePoint >= 0x09 && codePoint <= 0x0d);
  return whitespaceChar.test(String.fromCodePoint(codePoint));
}

const wordChar = /^[\p{Alphabetic}\p{N}_]$/u;

/** Rust's `char::is_alphanumeric() || c == '_'`, what added tokens' `single_word` looks at. */
export function isWordChar(codePoint: number): boolean {
  return wordChar.test(String.fromCodePoint(codePoint));
}

/**
 * Turns an Oniguruma pattern (as tokenizer.json stores them) into a JavaScript one with the `u` flag.
 * `\s` and `\S` get Rust's whitespace set. Case-insensitive groups `(?i:…)` (Llama 3 style patterns), which
 * Node 20 cannot parse, are rewritten with each ASCII letter as `[xX]`; other syntax means the same in both.
 */
export function translateRegex(pattern: string): string {
  let out = '';
  let inClass = false;
  /** Depth of open groups, and the depth at which a case-insensitive group started (-1: none open). */
  let depth = 0;
  let caselessFrom = -1;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '\\' && i + 1 < pattern.length) {
      const next = pattern[i + 1]!;
      i++;
      if (next === 's') out += inClass ? WHITESPACE_CLASS : `[${WHITESPACE_CLASS}]`;
      else if (next === 'S' && !inClass) out += `[^${WHITESPACE_CLASS}]`;
      else out += `\\${next}`;
      continue;
    }
    if (inClass) {
      if (ch === ']') inClass = false;
      else if (caselessFrom >= 0 && /[a-zA-Z]/.test(ch)) {
        throw new TokenizerError('UNSUPPORTED', `regex ${describe(pattern)}: letters in a character class inside (?i:…) are not supported`);
      }
      out += ch;
      continue;
    }
    if (ch === '[') inClass = true;
    else if (ch === '(') {
      depth++;
      if (pattern.startsWith('(?i:', i) && caselessFrom < 0) {
        caselessFrom = depth;
        out += '(?:';
        i += 3;
        continue;
      }
    } else if (ch === ')') {
      if (depth === caselessFrom) caselessFrom = -1;
      depth--;
    } else if (caselessFrom >= 0 && /[a-zA-Z]/.test(ch)) {
      out += `[${ch.toLowerCase()}${ch.toUpperCase()}]`;
      continue;
    }
    out += ch;
  }
  return out;
}

/** Escapes a literal string for use inside a RegExp. */
export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
