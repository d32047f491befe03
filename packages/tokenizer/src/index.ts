export { Tokenizer, type TextTokenizer, type EncodeOptions } from './tokenizer';
export { ByteTokenizer, CharTokenizer, type SimpleTokenizerOptions, type CharTokenizerOptions } from './simple';
export { trainBpe, type TrainBpeOptions } from './train';
export { TokenizerError, type TokenizerErrorCode } from './errors';
export type { AddedToken } from './added-vocabulary';
export type { DecodeOptions, StreamDecoder } from './stream';
export { BpeModel } from './bpe';
export { toByteLevel } from './bytes';
