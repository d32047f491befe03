import { readFile } from 'node:fs/promises';
import { ByteTokenizer, CharTokenizer, Tokenizer, trainBpe, type TextTokenizer } from '@ssmjs/tokenizer';

export type TokenizerChoice = 'byte' | 'char' | 'bpe' | (string & {});

export const END_OF_TEXT = '<|endoftext|>';

/**
 * The tokenizer of a run: bytes (no training, bits per byte read off the loss), characters of the
 * training text, a byte-level BPE trained on it, or a tokenizer.json file.
 */
export async function buildTokenizer(choice: TokenizerChoice, trainingText: readonly string[], bpeVocabSize: number): Promise<TextTokenizer> {
  if (choice === 'byte') return new ByteTokenizer({ specialTokens: [END_OF_TEXT] });
  if (choice === 'char') return CharTokenizer.fromText(trainingText.join(''), { specialTokens: [END_OF_TEXT] });
  if (choice === 'bpe') return trainBpe(trainingText, { vocabSize: bpeVocabSize, minFrequency: 2, specialTokens: [END_OF_TEXT] });
  return Tokenizer.fromFile(choice);
}

/** A tokenizer from the JSON a checkpoint holds: a Hugging Face tokenizer.json, or our byte/char forms. */
export function tokenizerFromJSON(json: Record<string, unknown>): TextTokenizer {
  if (json.type === 'ByteTokenizer') return new ByteTokenizer(json as { specialTokens?: string[] });
  if (json.type === 'CharTokenizer') return CharTokenizer.fromJSON(json as { alphabet: string[] });
  return Tokenizer.fromJSON(json);
}

export async function loadTokenizerFile(path: string): Promise<TextTokenizer> {
  return tokenizerFromJSON(JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>);
}

export function tokenizerToJSON(tok: TextTokenizer): unknown {
  return (tok as unknown as { toJSON(): unknown }).toJSON();
}
