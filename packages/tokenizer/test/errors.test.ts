import { describe, expect, it } from 'vitest';
import { ByteTokenizer, CharTokenizer, Tokenizer, TokenizerError, trainBpe } from '../src/index';
import { neoxTokenizer } from './helpers';

const bpe = { type: 'BPE', vocab: { a: 0, b: 1, ab: 2 }, merges: ['a b'] };

function errorOf(fn: () => unknown): TokenizerError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TokenizerError);
    return err as TokenizerError;
  }
  throw new Error('expected a TokenizerError, nothing was thrown');
}

describe('typed errors', () => {
  it('malformed JSON', () => {
    const err = errorOf(() => Tokenizer.fromJSON('{"model": '));
    expect(err.code).toBe('MALFORMED_JSON');
    expect(errorOf(() => Tokenizer.fromJSON('[1, 2]')).message).toMatch(/tokenizer\.json: expected an object, got \[1,2\]/);
    expect(errorOf(() => Tokenizer.fromJSON({ model: { ...bpe, vocab: { a: -1 } } })).message).toMatch(/model\.vocab\["a"\]: expected a non-negative integer id, got -1/);
    expect(errorOf(() => Tokenizer.fromJSON({ model: { ...bpe, merges: ['a b c'] } })).code).toBe('MALFORMED_JSON');
    expect(errorOf(() => Tokenizer.fromJSON({ model: bpe, added_tokens: [{ id: 5 }] })).message).toMatch(/added_tokens\[0\]\.content: expected a string/);
  });

  it('unknown component types, named', () => {
    const model = errorOf(() => Tokenizer.fromJSON({ model: { type: 'Unigram', vocab: [] } }));
    expect(model.code).toBe('UNSUPPORTED');
    expect(model.message).toMatch(/model type "Unigram"/);
    expect(errorOf(() => Tokenizer.fromJSON({ model: bpe, normalizer: { type: 'BertNormalizer' } })).message).toMatch(/normalizer type "BertNormalizer"/);
    expect(errorOf(() => Tokenizer.fromJSON({ model: bpe, pre_tokenizer: { type: 'Metaspace' } })).message).toMatch(/pre-tokenizer type "Metaspace"/);
    expect(errorOf(() => Tokenizer.fromJSON({ model: bpe, decoder: { type: 'WordPiece' } })).message).toMatch(/decoder type "WordPiece"/);
    expect(errorOf(() => Tokenizer.fromJSON({ model: bpe, post_processor: { type: 'Nope' } })).message).toMatch(/post-processor type "Nope"/);
    expect(errorOf(() => Tokenizer.fromJSON({ model: { ...bpe, dropout: 0.1 } })).message).toMatch(/dropout/);
  });

  it('files that contradict themselves', () => {
    const err = errorOf(() => Tokenizer.fromJSON({ model: { ...bpe, merges: ['a c'] } }));
    expect(err.code).toBe('INVALID_CONFIG');
    expect(err.message).toMatch(/merge 0 \["a","c"\]: token "c" is not in the vocabulary/);
  });

  it('ids out of range on decode and idToToken', () => {
    const tok = neoxTokenizer();
    for (const id of [-1, 50277, 1e9, 1.5, NaN]) {
      expect(errorOf(() => tok.decode([12092, id])).code).toBe('ID_OUT_OF_RANGE');
      expect(errorOf(() => tok.idToToken(id)).code).toBe('ID_OUT_OF_RANGE');
    }
    expect(errorOf(() => tok.decoder().push(60000)).code).toBe('ID_OUT_OF_RANGE');
    expect(errorOf(() => new ByteTokenizer().decode([256])).message).toMatch(/token id 256 is outside the vocabulary \[0, 256\)/);
    expect(errorOf(() => CharTokenizer.fromText('ab').decode([2])).code).toBe('ID_OUT_OF_RANGE');
  });

  it('encode of something that is not a string', () => {
    expect(errorOf(() => neoxTokenizer().encode(42 as unknown as string)).message).toBe('encode: expected a string, got 42');
  });

  it('missing files', async () => {
    await expect(Tokenizer.fromFile('/no/such/tokenizer.json')).rejects.toMatchObject({ code: 'IO', name: 'TokenizerError' });
  });

  it('characters a CharTokenizer cannot encode, and bad training options', () => {
    expect(errorOf(() => CharTokenizer.fromText('ab').encode('abc')).code).toBe('UNKNOWN_CHARACTER');
    expect(errorOf(() => trainBpe(['x'], { vocabSize: 100 })).code).toBe('INVALID_ARGUMENT');
    expect(errorOf(() => trainBpe(['x'], { vocabSize: 300, specialTokens: ['<s>', '<s>'] })).code).toBe('INVALID_ARGUMENT');
  });
});
