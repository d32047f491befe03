import { CHAR_TO_BYTE } from './bytes';
import { asArray, asId, asObject, asString, patternToRegExp, typeOf, unsupported, type JsonObject } from './config';
import { escapeRegex, translateRegex } from './unicode';

/** Turns tokens back into text, as the Rust library's decoders: each step maps the list of token strings. */
export interface Decoder {
  decodeChain(tokens: string[]): string[];
}

const SUPPORTED = ['ByteLevel', 'ByteFallback', 'Fuse', 'Replace', 'Strip', 'Sequence'] as const;

const lossyUtf8 = new TextDecoder('utf-8', { ignoreBOM: true });

/** The bytes a byte-level token stands for; a token with characters outside the alphabet stands for its own UTF-8. */
export function byteLevelBytes(token: string): Uint8Array {
  const bytes = new Uint8Array(token.length);
  for (let i = 0; i < token.length; i++) {
    const byte = CHAR_TO_BYTE.get(token.charCodeAt(i));
    if (byte === undefined) return new TextEncoder().encode(token);
    bytes[i] = byte;
  }
  return bytes;
}

export class ByteLevelDecoder implements Decoder {
  decodeChain(tokens: string[]): string[] {
    const parts = tokens.map(byteLevelBytes);
    const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const part of parts) {
      all.set(part, at);
      at += part.length;
    }
    return [lossyUtf8.decode(all)];
  }
}

/** `<0xAB>` tokens (SentencePiece byte fallback) back to text; invalid UTF-8 runs become one U+FFFD per byte. */
class ByteFallbackDecoder implements Decoder {
  decodeChain(tokens: string[]): string[] {
    const out: string[] = [];
    let pending: number[] = [];
    const flush = () => {
      if (pending.length === 0) return;
      try {
        out.push(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(new Uint8Array(pending)));
      } catch {
        for (let i = 0; i < pending.length; i++) out.push('\ufffd');
      }
      pending = [];
    };
    for (const token of tokens) {
      const match = /^<0x([0-9A-F]{2})>$/.exec(token);
      if (match) pending.push(parseInt(match[1]!, 16));
      else {
        flush();
        out.push(token);
      }
    }
    flush();
    return out;
  }
}

class FuseDecoder implements Decoder {
  decodeChain(tokens: string[]): string[] {
    return [tokens.join('')];
  }
}

class ReplaceDecoder implements Decoder {
  constructor(
    private readonly pattern: RegExp,
    private readonly content: string,
  ) {}
  decodeChain(tokens: string[]): string[] {
    return tokens.map((token) => token.replace(this.pattern, () => this.content));
  }
}

/** Removes up to `start` leading and `stop` trailing copies of `content` from each token. */
class StripDecoder implements Decoder {
  constructor(
    private readonly content: string,
    private readonly start: number,
    private readonly stop: number,
  ) {}
  decodeChain(tokens: string[]): string[] {
    return tokens.map((token) => {
      const chars = [...token];
      let from = 0;
      let to = chars.length;
      while (from < this.start && from < to && chars[from] === this.content) from++;
      let stripped = 0;
      while (stripped < this.stop && to > from && chars[to - 1] === this.content) {
        to--;
        stripped++;
      }
      return chars.slice(from, to).join('');
    });
  }
}

class SequenceDecoder implements Decoder {
  constructor(private readonly steps: Decoder[]) {}
  decodeChain(tokens: string[]): string[] {
    for (const step of this.steps) tokens = step.decodeChain(tokens);
    return tokens;
  }
}

/** Builds the decoder a tokenizer.json describes; `null` means none (tokens are then joined with spaces). */
export function decoderFromConfig(value: unknown, where = 'decoder'): Decoder | null {
  if (value === null || value === undefined) return null;
  const config: JsonObject = asObject(value, where);
  const type = typeOf(config, where);
  switch (type) {
    case 'ByteLevel':
      return new ByteLevelDecoder();
    case 'ByteFallback':
      return new ByteFallbackDecoder();
    case 'Fuse':
      return new FuseDecoder();
    case 'Replace':
      return new ReplaceDecoder(patternToRegExp(config.pattern, `${where}.pattern`, translateRegex, escapeRegex), asString(config.content, `${where}.content`));
    case 'Strip':
      return new StripDecoder(asString(config.content, `${where}.content`), asId(config.start, `${where}.start`), asId(config.stop, `${where}.stop`));
    case 'Sequence':
      return new SequenceDecoder(
        asArray(config.decoders, `${where}.decoders`).map((step, i) => decoderFromConfig(step, `${where}.decoders[${i}]`) ?? new FuseDecoder()),
      );
    default:
      throw unsupported('decoder', type, SUPPORTED);
  }
}
