import { AddedVocabulary, addedTokenFromConfig, addedTokenToConfig, assignAddedIds, type AddedToken } from './added-vocabulary';
import { BpeModel } from './bpe';
import { asArray, asObject, type JsonObject } from './config';
import { ByteLevelDecoder, byteLevelBytes, decoderFromConfig, type Decoder } from './decoders';
import { TokenizerError, describe } from './errors';
import { normalizerFromConfig, type Normalizer } from './normalizers';
import { postProcessorFromConfig, type PostProcessor } from './post-processors';
import { ByteLevelPreTokenizer, preTokenizerFromConfig, type PreTokenizer } from './pre-tokenizers';
import { ByteStreamDecoder, RedecodingStreamDecoder, type DecodeOptions, type StreamDecoder } from './stream';

const utf8Lossy = new TextDecoder('utf-8', { ignoreBOM: true });

export interface EncodeOptions {
  /** Apply the post-processor's template (BOS/EOS, CLS/SEP…), as the Rust library does by default. Default true. */
  addSpecialTokens?: boolean;
}

/** What every tokenizer of this package offers. */
export interface TextTokenizer {
  /** One more than the largest id: the size an embedding table needs. */
  readonly vocabSize: number;
  encode(text: string): number[];
  decode(ids: ArrayLike<number>, options?: DecodeOptions): string;
  decoder(options?: DecodeOptions): StreamDecoder;
  tokenToId(token: string): number | undefined;
  idToToken(id: number): string;
}

const MODELS = ['BPE'] as const;

/** Throws ID_OUT_OF_RANGE unless `id` is an integer in [0, size). */
export function checkId(id: number, size: number): void {
  if (!Number.isInteger(id) || id < 0 || id >= size) {
    throw new TokenizerError('ID_OUT_OF_RANGE', `token id ${describe(id)} is outside the vocabulary [0, ${size})`);
  }
}

/**
 * A Hugging Face `tokenizer.json` tokenizer (byte-level BPE: GPT-2, GPT-NeoX, Mamba…) that encodes and
 * decodes exactly as the Rust `tokenizers` library does.
 */
export class Tokenizer implements TextTokenizer {
  readonly model: BpeModel;
  readonly normalizer: Normalizer | null;
  readonly preTokenizer: PreTokenizer | null;
  readonly postProcessor: PostProcessor | null;
  readonly decoderStep: Decoder | null;
  readonly addedTokens: readonly AddedToken[];
  readonly vocabSize: number;
  private readonly added: AddedVocabulary;
  /** The component configs as loaded, for toJSON. */
  private readonly configs: JsonObject;
  private readonly byteLevelBytesCache = new Map<number, Uint8Array>();

  private constructor(config: JsonObject) {
    this.configs = {
      version: config.version ?? '1.0',
      truncation: structuredClone(config.truncation ?? null),
      padding: structuredClone(config.padding ?? null),
      normalizer: structuredClone(config.normalizer ?? null),
      pre_tokenizer: structuredClone(config.pre_tokenizer ?? null),
      post_processor: structuredClone(config.post_processor ?? null),
      decoder: structuredClone(config.decoder ?? null),
    };
    this.normalizer = normalizerFromConfig(config.normalizer);
    this.preTokenizer = preTokenizerFromConfig(config.pre_tokenizer);
    this.postProcessor = postProcessorFromConfig(config.post_processor);
    this.decoderStep = decoderFromConfig(config.decoder);

    const model = asObject(config.model, 'model');
    const type = model.type ?? (model.merges !== undefined ? 'BPE' : undefined);
    if (type !== 'BPE') {
      throw new TokenizerError('UNSUPPORTED', `unsupported model type ${describe(type)} (supported: ${MODELS.join(', ')})`);
    }
    this.model = BpeModel.fromConfig(model);

    const listed = asArray(config.added_tokens ?? [], 'added_tokens').map((t, i) => addedTokenFromConfig(t, `added_tokens[${i}]`));
    this.addedTokens = assignAddedIds(listed, (content) => this.model.vocab.get(content), this.model.vocab.size);
    this.added = new AddedVocabulary([...this.addedTokens], this.normalizer);
    this.vocabSize = Math.max(this.model.size, ...this.addedTokens.map((t) => t.id + 1));
  }

  /** Parses a tokenizer.json, given as text or as the parsed object. */
  static fromJSON(json: string | object): Tokenizer {
    let config: unknown = json;
    if (typeof json === 'string') {
      try {
        config = JSON.parse(json);
      } catch (err) {
        throw new TokenizerError('MALFORMED_JSON', `tokenizer.json is not valid JSON: ${(err as Error).message}`);
      }
    }
    return new Tokenizer(asObject(config, 'tokenizer.json'));
  }

  /** Reads a tokenizer.json file (Node only; the file system is loaded on demand so browser bundles do without it). */
  static async fromFile(path: string): Promise<Tokenizer> {
    // A computed specifier: bundlers for the browser neither resolve nor bundle the file system module.
    const fsModule = 'node:fs/promises';
    const { readFile } = (await import(/* @vite-ignore */ /* webpackIgnore: true */ fsModule)) as typeof import('node:fs/promises');
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      throw new TokenizerError('IO', `cannot read tokenizer file ${path}: ${(err as Error).message}`);
    }
    return Tokenizer.fromJSON(text);
  }

  /** The tokens with `special: true` (skipped by decode with skipSpecialTokens). */
  get specialTokens(): AddedToken[] {
    return this.addedTokens.filter((t) => t.special);
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    if (typeof text !== 'string') throw new TokenizerError('INVALID_ARGUMENT', `encode: expected a string, got ${describe(text)}`);
    const ids: number[] = [];
    const pieces: string[] = [];
    const pre = this.preTokenizer;
    // GPT-2 style files: words are looked up by their raw text, no byte-level string is built for cached words.
    const rawPath = pre instanceof ByteLevelPreTokenizer;
    for (const segment of this.added.split(text, this.normalizer)) {
      if (typeof segment === 'number') {
        ids.push(segment);
        continue;
      }
      pieces.length = 0;
      if (rawPath) {
        pre.splitRaw(segment, pieces);
        for (let i = 0; i < pieces.length; i++) this.model.tokenizeRaw(pieces[i]!, ids);
      } else if (pre) {
        pre.split(segment, pieces);
        for (let i = 0; i < pieces.length; i++) this.model.tokenize(pieces[i]!, ids);
      } else {
        this.model.tokenize(segment, ids);
      }
    }
    return options.addSpecialTokens !== false && this.postProcessor ? this.postProcessor.process(ids) : ids;
  }

  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    if (this.decoderStep instanceof ByteLevelDecoder) {
      // The byte-level decoder only concatenates each token's bytes, so skip the token strings.
      const parts: Uint8Array[] = [];
      let length = 0;
      for (let i = 0; i < ids.length; i++) {
        const bytes = this.byteLevelBytesOf(ids[i]!, options);
        if (bytes === null) continue;
        parts.push(bytes);
        length += bytes.length;
      }
      const all = new Uint8Array(length);
      let at = 0;
      for (const part of parts) {
        all.set(part, at);
        at += part.length;
      }
      return utf8Lossy.decode(all);
    }
    const tokens: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const token = this.idToToken(ids[i]!);
      if (options.skipSpecialTokens && this.added.isSpecial(token)) continue;
      tokens.push(token);
    }
    return this.decoderStep ? this.decoderStep.decodeChain(tokens).join('') : tokens.join(' ');
  }

  /** The bytes a token stands for under the ByteLevel decoder, or null for a special token being skipped. */
  private byteLevelBytesOf(id: number, options: DecodeOptions): Uint8Array | null {
    let bytes = this.byteLevelBytesCache.get(id);
    if (!bytes) {
      bytes = byteLevelBytes(this.idToToken(id));
      this.byteLevelBytesCache.set(id, bytes);
    }
    if (options.skipSpecialTokens && this.added.isSpecial(this.idToToken(id))) return null;
    return bytes;
  }

  decoder(options: DecodeOptions = {}): StreamDecoder {
    if (this.decoderStep instanceof ByteLevelDecoder) return new ByteStreamDecoder((id) => this.byteLevelBytesOf(id, options));
    return new RedecodingStreamDecoder((ids) => this.decode(ids, options));
  }

  tokenToId(token: string): number | undefined {
    return this.added.idOf(token) ?? this.model.vocab.get(token);
  }

  idToToken(id: number): string {
    const token = Number.isInteger(id) ? (this.added.tokenOf(id)?.content ?? this.model.tokens[id]) : undefined;
    if (token === undefined) {
      throw new TokenizerError('ID_OUT_OF_RANGE', `token id ${describe(id)} has no token (vocabulary size ${this.vocabSize})`);
    }
    return token;
  }

  /** The tokenizer.json object (JSON.stringify of a Tokenizer writes it). */
  toJSON(): JsonObject {
    const c = this.configs;
    return {
      version: c.version,
      truncation: structuredClone(c.truncation),
      padding: structuredClone(c.padding),
      added_tokens: this.addedTokens.map(addedTokenToConfig),
      normalizer: structuredClone(c.normalizer),
      pre_tokenizer: structuredClone(c.pre_tokenizer),
      post_processor: structuredClone(c.post_processor),
      decoder: structuredClone(c.decoder),
      model: this.model.toConfig(),
    };
  }
}
