import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Tokenizer } from '../src/index';

export const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
export const readJson = <T>(name: string): T => JSON.parse(readFileSync(fixture(name), 'utf8')) as T;

/** One text of the parity corpus as the Rust library encoded and decoded it. */
export interface ParityCase {
  text: string;
  ids: number[];
  decoded: string;
  decodedSkipSpecial: string;
}

let neox: Tokenizer | undefined;
/** GPT-NeoX-20B's tokenizer (loaded once: 2.4 MB of JSON). */
export function neoxTokenizer(): Tokenizer {
  neox ??= Tokenizer.fromJSON(readFileSync(fixture('gpt-neox-20b.tokenizer.json'), 'utf8'));
  return neox;
}
