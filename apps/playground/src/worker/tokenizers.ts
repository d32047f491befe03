import { ByteTokenizer, CharTokenizer, Tokenizer, TokenizerError, type TextTokenizer } from '@ssmjs/tokenizer';

/**
 * The tokenizer a checkpoint folder holds: a Hugging Face tokenizer.json, or the byte/char forms that
 * `ssm train` writes (`{ type: 'ByteTokenizer' … }`, `{ type: 'CharTokenizer', alphabet … }`). The trainer's
 * own reader also opens files from disk, so the page has this browser-only copy of its dispatch.
 */
export function tokenizerFromJSON(text: string): { tokenizer: TextTokenizer; kind: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new TokenizerError('MALFORMED_JSON', `tokenizer.json is not JSON: ${(e as Error).message}`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new TokenizerError('MALFORMED_JSON', `tokenizer.json must hold an object, got ${Array.isArray(json) ? 'an array' : typeof json}`);
  }
  const record = json as Record<string, unknown>;
  if (record.type === 'ByteTokenizer') return { tokenizer: new ByteTokenizer(record as { specialTokens?: string[] }), kind: 'ByteTokenizer' };
  if (record.type === 'CharTokenizer') return { tokenizer: CharTokenizer.fromJSON(record as { alphabet: string[] }), kind: 'CharTokenizer' };
  return { tokenizer: Tokenizer.fromJSON(record), kind: 'Tokenizer (BPE)' };
}
