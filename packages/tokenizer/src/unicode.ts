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
 * Only `\s` and `\S` need care; the rest of the syntax these files use means the same in both.
 */
export function translateRegex(pattern: string): string {
  let out = '';
  let inClass = false;
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
    if (ch === '[' && !inClass) inClass = true;
    else if (ch === ']' && inClass) inClass = false;
    out += ch;
  }
  return out;
}

/** Escapes a literal string for use inside a RegExp. */
export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
