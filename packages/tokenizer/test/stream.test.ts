import { describe, expect, it } from 'vitest';
import { ByteTokenizer, CharTokenizer, Tokenizer } from '../src/index';
import { neoxTokenizer } from './helpers';

function streamAll(tok: { decoder(o?: { skipSpecialTokens?: boolean }): { push(id: number): string; flush(): string } }, ids: number[], skipSpecialTokens = false) {
  const stream = tok.decoder({ skipSpecialTokens });
  const pieces = ids.map((id) => stream.push(id));
  pieces.push(stream.flush());
  return pieces;
}

/** True when the string holds no lone surrogate, i.e. no half of a character. */
const wellFormed = (s: string) => !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);

describe('streaming decoder', () => {
  const tok = neoxTokenizer();

  it('holds back a multi-byte character split across tokens until it is complete', () => {
    // GPT-NeoX writes 🎉 (4 UTF-8 bytes) as three byte-level tokens.
    const ids = tok.encode('🎉');
    expect(ids.length).toBeGreaterThan(1);
    const pieces = streamAll(tok, ids);
    expect(pieces.slice(0, ids.length - 1).every((p) => p === '')).toBe(true);
    expect(pieces[ids.length - 1]).toBe('🎉');
  });

  it('emits text as soon as it is complete and never a broken character', () => {
    const text = 'Hi 👋 日本語, 👨‍👩‍👧 e\u0301 <|endoftext|> done 🇺🇸!';
    const ids = tok.encode(text);
    const pieces = streamAll(tok, ids);
    expect(pieces.join('')).toBe(tok.decode(ids));
    for (const p of pieces) {
      expect(wellFormed(p)).toBe(true);
      expect(p).not.toContain('\ufffd');
    }
    // ASCII words come out on their own token, not later.
    expect(pieces[0]).toBe('Hi');
  });

  it('skips special tokens when asked', () => {
    const ids = tok.encode('a<|endoftext|>b');
    expect(streamAll(tok, ids, true).join('')).toBe('ab');
  });

  it('flushes an incomplete character as U+FFFD, like decode', () => {
    const ids = tok.encode('🎉').slice(0, -1);
    expect(streamAll(tok, ids).join('')).toBe(tok.decode(ids));
    expect(tok.decode(ids)).toContain('\ufffd');
  });

  it('works through the generic path for non byte-level decoders', () => {
    const json = tok.toJSON();
    json.decoder = { type: 'Sequence', decoders: [{ type: 'ByteLevel' }] };
    const generic = Tokenizer.fromJSON(json);
    const ids = generic.encode('naïve 🎉 text');
    const pieces = streamAll(generic, ids);
    expect(pieces.join('')).toBe(generic.decode(ids));
    for (const p of pieces) expect(p).not.toContain('\ufffd');
  });

  it('works for ByteTokenizer and CharTokenizer', () => {
    const bytes = new ByteTokenizer();
    const ids = bytes.encode('é🎉');
    expect(streamAll(bytes, ids)).toEqual(['', 'é', '', '', '', '🎉', '']);
    const chars = CharTokenizer.fromText('ab🎉');
    expect(streamAll(chars, chars.encode('a🎉b'))).toEqual(['a', '🎉', 'b', '']);
  });
});
