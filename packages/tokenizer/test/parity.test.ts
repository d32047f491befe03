import { describe, expect, it } from 'vitest';
import { Tokenizer } from '../src/index';
import { fixture, neoxTokenizer, readJson, type ParityCase } from './helpers';

// Expected ids were made by the Rust `tokenizers` library (tooling/fixtures/tokenizer/make_tokenizer_fixtures.py).
const suites = [
  { name: 'gpt-neox-20b', file: 'neox-parity.json', load: async () => neoxTokenizer() },
  { name: 'trained-bpe (made by trainBpe)', file: 'trained-parity.json', load: () => Tokenizer.fromFile(fixture('trained-bpe.tokenizer.json')) },
];

describe.each(suites)('parity with Rust tokenizers: $name', ({ file, load }) => {
  const { cases, tokenizers } = readJson<{ cases: ParityCase[]; tokenizers: string }>(file);

  it(`has a broad corpus (tokenizers ${tokenizers})`, () => {
    expect(cases.length).toBeGreaterThan(500);
    expect(cases.some((c) => c.text.includes('<|endoftext|>'))).toBe(true);
    expect(cases.some((c) => c.text.includes('\u200d'))).toBe(true);
  });

  it('encodes every text to the same ids', async () => {
    const tok = await load();
    const wrong = cases.filter((c) => JSON.stringify(tok.encode(c.text)) !== JSON.stringify(c.ids));
    expect(wrong.map((c) => c.text.slice(0, 40))).toEqual([]);
  });

  it('decodes every id list to the same text, with and without special tokens', async () => {
    const tok = await load();
    for (const c of cases) {
      expect(tok.decode(c.ids)).toBe(c.decoded);
      expect(tok.decode(c.ids, { skipSpecialTokens: true })).toBe(c.decodedSkipSpecial);
    }
  });

  it('encodes identically after toJSON → fromJSON', async () => {
    const tok = await load();
    const again = Tokenizer.fromJSON(JSON.stringify(tok));
    for (const c of cases) expect(again.encode(c.text)).toEqual(c.ids);
  });
});

describe('gpt-neox-20b specifics', () => {
  const tok = neoxTokenizer();

  it('knows its vocabulary and special tokens', () => {
    expect(tok.vocabSize).toBe(50277);
    expect(tok.tokenToId('<|endoftext|>')).toBe(0);
    expect(tok.idToToken(1)).toBe('<|padding|>');
    expect(tok.tokenToId('Ġthe')).toBe(253);
    expect(tok.idToToken(50254)).toBe(' '.repeat(24));
    expect(tok.specialTokens.map((t) => t.content)).toEqual(['<|endoftext|>', '<|padding|>']);
    expect(tok.tokenToId('no such token')).toBeUndefined();
  });

  it('splits runs of spaces into added tokens before the byte-level regex', () => {
    // 26 spaces: the longest added run (24) first, then the regex sees the rest.
    expect(tok.encode('a' + ' '.repeat(26) + 'b')).toEqual(tok.encode('a').concat([50254], tok.encode('  b')));
  });
});
