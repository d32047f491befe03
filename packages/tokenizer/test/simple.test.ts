import { describe, expect, it } from 'vitest';
import { ByteTokenizer, CharTokenizer } from '../src/index';

describe('ByteTokenizer', () => {
  const tok = new ByteTokenizer({ specialTokens: ['<eos>'] });

  it('maps text to its UTF-8 bytes and special tokens after them', () => {
    expect(tok.vocabSize).toBe(257);
    expect(tok.encode('Aé<eos>')).toEqual([65, 0xc3, 0xa9, 256]);
    expect(tok.decode([65, 0xc3, 0xa9, 256])).toBe('Aé<eos>');
    expect(tok.decode([65, 256], { skipSpecialTokens: true })).toBe('A');
    expect(tok.idToToken(0xc3)).toBe('<0xC3>');
    expect(tok.tokenToId('A')).toBe(65);
    expect(tok.tokenToId('<eos>')).toBe(256);
  });

  it('decodes invalid UTF-8 to U+FFFD', () => {
    expect(tok.decode([0xff, 65])).toBe('\ufffdA');
  });
});

describe('CharTokenizer', () => {
  it('gives one id per character, sorted, after special and unknown tokens', () => {
    const tok = CharTokenizer.fromText('hello 🎉', { specialTokens: ['<pad>'], unkToken: '<unk>' });
    expect(tok.alphabet).toEqual([' ', 'e', 'h', 'l', 'o', '🎉']);
    expect(tok.vocabSize).toBe(8);
    expect(tok.encode('hell🎉')).toEqual([4, 3, 5, 5, 7]);
    expect(tok.encode('hex')).toEqual([4, 3, 1]);
    expect(tok.decode(tok.encode('<pad>hole'))).toBe('<pad>hole');
    expect(tok.decode(tok.encode('<pad>hole'), { skipSpecialTokens: true })).toBe('hole');
    expect(CharTokenizer.fromJSON(tok.toJSON()).encode('hello')).toEqual(tok.encode('hello'));
  });
});
