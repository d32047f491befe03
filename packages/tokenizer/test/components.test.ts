import { describe, expect, it } from 'vitest';
import { Tokenizer } from '../src/index';
import { normalizerFromConfig } from '../src/normalizers';
import { preTokenizerFromConfig } from '../src/pre-tokenizers';

const split = (config: object, text: string) => {
  const out: string[] = [];
  preTokenizerFromConfig(config)!.split(text, out);
  return out;
};
const normalize = (config: object, text: string) => normalizerFromConfig(config)!.normalize(text);

describe('normalizers', () => {
  it('Unicode forms, lowercase per character, strip, sequence', () => {
    expect(normalize({ type: 'NFC' }, 'e\u0301')).toBe('\u00e9');
    expect(normalize({ type: 'NFD' }, '\u00e9')).toBe('e\u0301');
    expect(normalize({ type: 'NFKC' }, 'ﬁ①')).toBe('fi1');
    expect(normalize({ type: 'NFKD' }, 'ﬁ\u00e9')).toBe('fie\u0301');
    // Rust lowercases each character alone: capital sigma never becomes final sigma.
    expect(normalize({ type: 'Lowercase' }, 'ΟΔΥΣΣΕΥΣ Ab')).toBe('οδυσσευσ ab');
    expect(normalize({ type: 'Strip', strip_left: true, strip_right: false }, ' \u3000x \n')).toBe('x \n');
    expect(normalize({ type: 'Strip', strip_left: true, strip_right: true }, ' \u0085x\u2028')).toBe('x');
    expect(normalize({ type: 'Sequence', normalizers: [{ type: 'NFD' }, { type: 'Lowercase' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] }, 'É A')).toBe('e\u0301▁a');
    expect(normalize({ type: 'Prepend', prepend: '▁' }, 'x')).toBe('▁x');
  });
});

describe('pre-tokenizers', () => {
  // The examples of the Rust library's documentation of SplitDelimiterBehavior.
  const text = 'the-final--countdown';
  const withBehavior = (behavior: string) => split({ type: 'Split', pattern: { String: '-' }, behavior, invert: false }, text);
  it('Split, each delimiter behaviour', () => {
    expect(withBehavior('Removed')).toEqual(['the', 'final', 'countdown']);
    expect(withBehavior('Isolated')).toEqual(['the', '-', 'final', '-', '-', 'countdown']);
    expect(withBehavior('MergedWithPrevious')).toEqual(['the-', 'final-', '-', 'countdown']);
    expect(withBehavior('MergedWithNext')).toEqual(['the', '-final', '-', '-countdown']);
    expect(withBehavior('Contiguous')).toEqual(['the', '-', 'final', '--', 'countdown']);
    expect(split({ type: 'Split', pattern: { Regex: '\\s+' }, behavior: 'Removed', invert: true }, 'a bc  d')).toEqual([' ', '  ']);
  });

  it('Whitespace, WhitespaceSplit, ByteLevel options, Sequence', () => {
    expect(split({ type: 'Whitespace' }, "Hey man! It's\tnaïve")).toEqual(['Hey', 'man', '!', 'It', "'", 's', 'naïve']);
    expect(split({ type: 'WhitespaceSplit' }, 'Hey  man!\n')).toEqual(['Hey', 'man!']);
    expect(split({ type: 'ByteLevel', add_prefix_space: true }, 'Hello world')).toEqual(['ĠHello', 'Ġworld']);
    expect(split({ type: 'ByteLevel', add_prefix_space: false, use_regex: false }, 'Hello world')).toEqual(['HelloĠworld']);
    expect(split({ type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }, { type: 'ByteLevel', add_prefix_space: false }] }, 'é x')).toEqual(['Ã©', 'x']);
  });
});

describe('added tokens', () => {
  // A tiny model: one id per character (no pre-tokenizer); added tokens take the ids after it.
  const chars = 'abcdefghijklmnopqrstuvwxyz<>!_ ';
  const m = chars.length;
  const vocab = Object.fromEntries([...chars].map((c, i) => [c, i]));
  const id = (c: string) => vocab[c]!;
  const ids = (s: string) => [...s].map(id);
  const make = (token: object, normalizer: object | null = null) =>
    Tokenizer.fromJSON({ normalizer, model: { type: 'BPE', vocab, merges: [] }, added_tokens: [{ id: m, content: '<m>', special: true, ...token }] });

  it('lstrip and rstrip take the neighbouring whitespace into the token', () => {
    expect(make({}).encode('hi <m> x')).toEqual([...ids('hi '), m, ...ids(' x')]);
    expect(make({ lstrip: true }).encode('hi  <m> x')).toEqual([...ids('hi'), m, ...ids(' x')]);
    expect(make({ rstrip: true }).encode('hi <m>  x')).toEqual([...ids('hi '), m, ...ids('x')]);
  });

  it('single_word matches only where no word character touches the token', () => {
    const tok = make({ content: 'ab', single_word: true });
    expect(tok.encode('ab cab ab_ ab!')).toEqual([m, ...ids(' cab ab_ '), m, id('!')]);
  });

  it('normalized tokens are found in normalized text, others in the text as given', () => {
    const lowercase = { type: 'Lowercase' };
    expect(make({ content: '<M>', normalized: true }, lowercase).encode('a<M>b')).toEqual([id('a'), m, id('b')]);
    expect(make({ content: '<M>', normalized: true }, lowercase).encode('a<m>b')).toEqual([id('a'), m, id('b')]);
    // Not normalized: matched before lowercasing, so only the exact text matches.
    expect(make({ content: '<M>', normalized: false }, lowercase).encode('a<M>b')).toEqual([id('a'), m, id('b')]);
    expect(make({ content: '<M>', normalized: false }, lowercase).encode('a<m>b')).toEqual(ids('a<m>b'));
  });

  it('prefers the longest token at the leftmost position', () => {
    const tok = Tokenizer.fromJSON({
      model: { type: 'BPE', vocab, merges: [] },
      added_tokens: [
        { id: m, content: 'ab', special: false, normalized: false },
        { id: m + 1, content: 'abc', special: false, normalized: false },
        { id: m + 2, content: 'bcd', special: false, normalized: false },
      ],
    });
    expect(tok.encode('abcd')).toEqual([m + 1, id('d')]);
    expect(tok.encode('xbcd')).toEqual([id('x'), m + 2]);
  });
});

describe('Oniguruma patterns', () => {
  it('rewrites case-insensitive groups, which Node 20 cannot parse', () => {
    // Llama 3's pattern begins with a case-insensitive group of contractions.
    const pattern = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    const config = { type: 'Split', pattern: { Regex: pattern }, behavior: 'Isolated', invert: false };
    expect(split(config, "IT'S 12345 don'T")).toEqual(['IT', "'S", ' ', '123', '45', ' don', "'T"]);
    expect(split(config, "it's")).toEqual(['it', "'s"]);
  });

  it('names patterns it cannot translate', () => {
    const config = { type: 'Split', pattern: { Regex: '(?i:[a-z])' }, behavior: 'Isolated', invert: false };
    expect(() => preTokenizerFromConfig(config)).toThrow(/inside \(\?i:…\) are not supported/);
    expect(() => preTokenizerFromConfig({ type: 'Split', pattern: { Regex: '(?<=a' }, behavior: 'Isolated' })).toThrow(/not valid in JavaScript/);
  });
});

describe('added token ids, as the Rust library assigns them on load', () => {
  const model = { type: 'BPE', vocab: { a: 0, b: 1, '<s>': 2 }, merges: [] };
  const token = (id: number, content: string) => ({ id, content, special: true, normalized: false });

  it('takes the vocabulary id of a token it already has, and the next free ids for new ones', () => {
    // The file's ids are wrong on purpose: Rust warns and uses its own.
    const tok = Tokenizer.fromJSON({ model, added_tokens: [token(7, '<s>'), token(9, '<x>'), token(4, '<y>'), token(5, '')] });
    expect(tok.addedTokens.map((t) => [t.content, t.id])).toEqual([['<s>', 2], ['<x>', 3], ['<y>', 4]]);
    expect(tok.encode('a<y>b<x>')).toEqual([0, 4, 1, 3]);
    expect(tok.vocabSize).toBe(5);
  });

  it('lets a repeated token text replace the earlier flags, keeping its id', () => {
    const tok = Tokenizer.fromJSON({ model, added_tokens: [token(3, '<x>'), { ...token(3, '<x>'), special: false }] });
    expect(tok.addedTokens).toHaveLength(1);
    expect(tok.addedTokens[0]).toMatchObject({ id: 3, special: false });
  });
});
