import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { brownDocuments } from '../bench/brown.mjs';
import { Tokenizer, trainBpe } from '../src/index';
import { fixture } from './helpers';

const options = { vocabSize: 4096, minFrequency: 2, specialTokens: ['<|endoftext|>', '<|padding|>'] };

describe('trainBpe', () => {
  const documents = brownDocuments(5);

  it('is deterministic and reproduces the committed tokenizer that Rust was checked against', () => {
    const first = JSON.stringify(trainBpe(documents, options), null, 1) + '\n';
    const second = JSON.stringify(trainBpe(documents, options), null, 1) + '\n';
    expect(second).toBe(first);
    expect(first).toBe(readFileSync(fixture('trained-bpe.tokenizer.json'), 'utf8'));
  });

  it('fills the vocabulary: special tokens first, then 256 bytes, then merges', () => {
    const tok = trainBpe(documents.slice(0, 20), { vocabSize: 600, specialTokens: ['<s>', '</s>'] });
    expect(tok.vocabSize).toBe(600);
    expect(tok.tokenToId('<s>')).toBe(0);
    expect(tok.tokenToId('</s>')).toBe(1);
    expect(tok.model.merges.length).toBe(600 - 2 - 256);
    expect(tok.encode('a<s>b')).toEqual([tok.tokenToId('a'), 0, tok.tokenToId('b')]);
  });

  it('learns frequent words as single tokens and round-trips any text', () => {
    const tok = trainBpe(Array(50).fill('hello world, hello there'), { vocabSize: 300 });
    expect(tok.encode('hello')).toHaveLength(1);
    expect(tok.encode(' world')).toHaveLength(1);
    for (const text of ['unseen: Ωmega 🎉', 'hello', '']) expect(tok.decode(tok.encode(text))).toBe(text);
  });

  it('stops early when no pair reaches minFrequency', () => {
    const tok = trainBpe(['abab', 'cd'], { vocabSize: 1000, minFrequency: 2 });
    // Only "ab" (seen twice) qualifies; then "abab"'s pair (ab, ab) occurs once.
    expect(tok.model.merges).toEqual([['a', 'b']]);
    expect(tok.vocabSize).toBe(257);
  });

  it('writes a tokenizer.json that loads back identically', () => {
    const tok = trainBpe(documents.slice(0, 10), { vocabSize: 800 });
    const again = Tokenizer.fromJSON(JSON.stringify(tok));
    const text = documents[11]!.slice(0, 2000);
    expect(again.encode(text)).toEqual(tok.encode(text));
    expect(again.toJSON()).toEqual(tok.toJSON());
  });
});
