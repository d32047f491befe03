/** Options of decode and of streaming decoders. */
export interface DecodeOptions {
  /** Leave out special tokens (`<|endoftext|>`, …). Default false. */
  skipSpecialTokens?: boolean;
}

/**
 * Turns ids into text one at a time, as a model generates them. `push` returns the text that became
 * complete with this id (often '', e.g. while a multi-byte character is split across tokens); it never
 * returns part of a character. `flush` returns what is left at the end (U+FFFD for incomplete bytes).
 * The concatenation of all returned strings equals `decode` of all ids.
 */
export interface StreamDecoder {
  push(id: number): string;
  flush(): string;
}

/** For tokenizers whose ids stand for bytes: UTF-8 is decoded incrementally, holding back incomplete characters. */
export class ByteStreamDecoder implements StreamDecoder {
  private readonly utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

  /** `bytesOf` returns the bytes of an id, or null for an id to skip. */
  constructor(private readonly bytesOf: (id: number) => Uint8Array | null) {}

  push(id: number): string {
    const bytes = this.bytesOf(id);
    return bytes === null ? '' : this.utf8.decode(bytes, { stream: true });
  }

  flush(): string {
    return this.utf8.decode();
  }
}

/**
 * For any decoder: decode a short window of recent ids and emit what grew, holding back while the text
 * ends in U+FFFD (an incomplete character). The Rust library's DecodeStream works the same way.
 */
export class RedecodingStreamDecoder implements StreamDecoder {
  private ids: number[] = [];
  private prefix = '';
  private prefixIndex = 0;

  constructor(private readonly decode: (ids: number[]) => string) {}

  push(id: number): string {
    this.ids.push(id);
    const text = this.decode(this.ids);
    if (text.length <= this.prefix.length || text.endsWith('\ufffd') || !text.startsWith(this.prefix)) return '';
    const fresh = text.slice(this.prefix.length);
    const nextPrefixIndex = this.ids.length - this.prefixIndex;
    this.ids = this.ids.slice(this.prefixIndex);
    this.prefix = this.decode(this.ids);
    this.prefixIndex = nextPrefixIndex;
    return fresh;
  }

  flush(): string {
    const text = this.decode(this.ids);
    const rest = text.startsWith(this.prefix) ? text.slice(this.prefix.length) : '';
    this.ids = [];
    this.prefix = '';
    this.prefixIndex = 0;
    return rest;
  }
}
