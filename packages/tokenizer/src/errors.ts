/**
 * Stable codes of `TokenizerError`:
 * - `MALFORMED_JSON`: the tokenizer.json text is not JSON, or a field has the wrong shape.
 * - `UNSUPPORTED`: a model, normalizer, pre-tokenizer, decoder or post-processor type this package does not implement.
 * - `INVALID_CONFIG`: a well-formed file that contradicts itself (a merge of tokens missing from the vocabulary…).
 * - `ID_OUT_OF_RANGE`: a token id that the tokenizer does not know, given to decode or idToToken.
 * - `UNKNOWN_CHARACTER`: a character that a CharTokenizer has no id for and no unknown token to stand for it.
 * - `INVALID_ARGUMENT`: an option outside what the function accepts (trainBpe's vocabSize, …).
 * - `IO`: the file could not be read.
 */
export type TokenizerErrorCode =
  | 'MALFORMED_JSON'
  | 'UNSUPPORTED'
  | 'INVALID_CONFIG'
  | 'ID_OUT_OF_RANGE'
  | 'UNKNOWN_CHARACTER'
  | 'INVALID_ARGUMENT'
  | 'IO';

/** Every error this package throws on purpose; `code` is stable, the message says what was expected and what came. */
export class TokenizerError extends Error {
  constructor(
    readonly code: TokenizerErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'TokenizerError';
  }
}

/** A short, printable description of a value for error messages. */
export function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  const text = JSON.stringify(value);
  if (text === undefined) return String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
