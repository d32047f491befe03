import { asArray, asBool, asObject, asString, patternToRegExp, typeOf, unsupported, type JsonObject } from './config';
import { escapeRegex, isWhitespace, translateRegex } from './unicode';

/** Rewrites text before it is split into words. */
export interface Normalizer {
  normalize(text: string): string;
}

const SUPPORTED = ['NFC', 'NFD', 'NFKC', 'NFKD', 'Lowercase', 'Strip', 'Replace', 'Prepend', 'Sequence'] as const;

class UnicodeForm implements Normalizer {
  constructor(private readonly form: 'NFC' | 'NFD' | 'NFKC' | 'NFKD') {}
  normalize(text: string): string {
    return text.normalize(this.form);
  }
}

/**
 * Lowercases each character on its own, as Rust's `char::to_lowercase` does. `String.toLowerCase`
 * differs only for capital sigma, which it turns into final sigma at the end of a word.
 */
class Lowercase implements Normalizer {
  normalize(text: string): string {
    if (!text.includes('\u03a3')) return text.toLowerCase();
    return text.split('\u03a3').map((part) => part.toLowerCase()).join('\u03c3');
  }
}

class Strip implements Normalizer {
  constructor(
    private readonly left: boolean,
    private readonly right: boolean,
  ) {}
  normalize(text: string): string {
    let start = 0;
    let end = text.length;
    if (this.left) {
      while (start < end) {
        const cp = text.codePointAt(start)!;
        if (!isWhitespace(cp)) break;
        start += cp > 0xffff ? 2 : 1;
      }
    }
    if (this.right) {
      while (end > start && isWhitespace(text.charCodeAt(end - 1))) end--;
    }
    return text.slice(start, end);
  }
}

class Replace implements Normalizer {
  constructor(
    private readonly pattern: RegExp,
    private readonly content: string,
  ) {}
  normalize(text: string): string {
    // A function replacement keeps `$` in the content literal.
    return text.replace(this.pattern, () => this.content);
  }
}

class Prepend implements Normalizer {
  constructor(private readonly prefix: string) {}
  normalize(text: string): string {
    return text.length === 0 ? text : this.prefix + text;
  }
}

class Sequence implements Normalizer {
  constructor(private readonly steps: Normalizer[]) {}
  normalize(text: string): string {
    for (const step of this.steps) text = step.normalize(text);
    return text;
  }
}

/** Builds the normalizer a tokenizer.json describes; `null` means none. */
export function normalizerFromConfig(value: unknown, where = 'normalizer'): Normalizer | null {
  if (value === null || value === undefined) return null;
  const config: JsonObject = asObject(value, where);
  const type = typeOf(config, where);
  switch (type) {
    case 'NFC':
    case 'NFD':
    case 'NFKC':
    case 'NFKD':
      return new UnicodeForm(type);
    case 'Lowercase':
      return new Lowercase();
    case 'Strip':
      return new Strip(asBool(config.strip_left, `${where}.strip_left`, true), asBool(config.strip_right, `${where}.strip_right`, true));
    case 'Replace':
      return new Replace(patternToRegExp(config.pattern, `${where}.pattern`, translateRegex, escapeRegex), asString(config.content, `${where}.content`));
    case 'Prepend':
      return new Prepend(asString(config.prepend, `${where}.prepend`));
    case 'Sequence':
      return new Sequence(
        asArray(config.normalizers, `${where}.normalizers`).map((step, i) => {
          const inner = normalizerFromConfig(step, `${where}.normalizers[${i}]`);
          return inner ?? { normalize: (text: string) => text };
        }),
      );
    default:
      throw unsupported('normalizer', type, SUPPORTED);
  }
}
