/**
 * GPT-2's byte-level alphabet: each byte 0..255 stands for one printable character, so that any
 * UTF-8 text becomes a string of "visible" characters and BPE never meets an unknown symbol.
 * Printable Latin-1 bytes map to themselves; the others are moved to U+0100 and up, in byte order.
 */
function buildByteAlphabet(): string[] {
  const chars: string[] = new Array(256);
  let shifted = 0;
  for (let byte = 0; byte < 256; byte++) {
    const printable =
      (byte >= 0x21 && byte <= 0x7e) || (byte >= 0xa1 && byte <= 0xac) || (byte >= 0xae && byte <= 0xff);
    chars[byte] = String.fromCharCode(printable ? byte : 256 + shifted++);
  }
  return chars;
}

/** BYTE_TO_CHAR[b] is the character standing for byte b. */
export const BYTE_TO_CHAR: readonly string[] = buildByteAlphabet();

/** CHAR_TO_BYTE maps a byte-level character code back to its byte. */
export const CHAR_TO_BYTE: ReadonlyMap<number, number> = new Map(BYTE_TO_CHAR.map((ch, byte) => [ch.charCodeAt(0), byte]));

/**
 * Writes the UTF-8 bytes of `text` into `out` (which must hold 3 × text.length bytes) and returns their
 * count. Lone surrogates become U+FFFD, as TextEncoder does. Faster than TextEncoder for short strings.
 */
export function utf8Encode(text: string, out: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      out[n++] = c;
    } else if (c < 0x800) {
      out[n++] = 0xc0 | (c >> 6);
      out[n++] = 0x80 | (c & 0x3f);
    } else {
      if (c >= 0xd800 && c <= 0xdfff) {
        const low = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && low >= 0xdc00 && low <= 0xdfff) {
          i++;
          c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
          out[n++] = 0xf0 | (c >> 18);
          out[n++] = 0x80 | ((c >> 12) & 0x3f);
          out[n++] = 0x80 | ((c >> 6) & 0x3f);
          out[n++] = 0x80 | (c & 0x3f);
          continue;
        }
        c = 0xfffd;
      }
      out[n++] = 0xe0 | (c >> 12);
      out[n++] = 0x80 | ((c >> 6) & 0x3f);
      out[n++] = 0x80 | (c & 0x3f);
    }
  }
  return n;
}

/** The byte-level string of `text`: its UTF-8 bytes, each written as its alphabet character. */
export function toByteLevel(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += BYTE_TO_CHAR[bytes[i]!];
  return out;
}
