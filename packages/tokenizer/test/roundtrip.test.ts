import { describe, expect, it } from 'vitest';
import { neoxTokenizer, readJson } from './helpers';

/** Random strings over code points of many scripts, emoji, marks, controls and whitespace. */
function randomText(seed: number, length: number): string {
  let state = seed >>> 0;
  const next = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const ranges: Array<[number, number]> = [
    [0x00, 0x7f], [0x80, 0x2ff], [0x300, 0x36f], [0x400, 0x4ff], [0x600, 0x6ff], [0x900, 0x97f],
    [0x2000, 0x206f], [0x3040, 0x30ff], [0x4e00, 0x9fff], [0xac00, 0xd7a3], [0x1f300, 0x1faff], [0x10000, 0x1034f],
  ];
  let out = '';
  for (let i = 0; i < length; i++) {
    const [lo, hi] = ranges[Math.floor(next() * ranges.length)]!;
    out += next() < 0.2 ? ' ' : String.fromCodePoint(lo + Math.floor(next() * (hi - lo + 1)));
  }
  return out;
}

describe('decode(encode(x)) == NFC(x)', () => {
  const tok = neoxTokenizer();

  it('holds for the parity corpus', () => {
    for (const text of readJson<string[]>('parity-corpus.json')) expect(tok.decode(tok.encode(text))).toBe(text.normalize('NFC'));
  });

  it('holds for random multilingual text', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const text = randomText(seed, 1 + (seed % 97));
      expect(tok.decode(tok.encode(text))).toBe(text.normalize('NFC'));
    }
  });

  it('changes text that NFC changes (decomposed é becomes one code point)', () => {
    expect(tok.decode(tok.encode('cafe\u0301'))).toBe('caf\u00e9');
  });
});
