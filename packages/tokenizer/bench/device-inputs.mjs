// Writes what the GPU machine's fixture script needs from this side (run after `pnpm build`):
//   test/fixtures/trained-bpe.tokenizer.json   trainBpe on Brown text (committed; Rust must encode like us with it)
//   ../../.bench-text/brown.txt                the benchmark text, documents joined by "\n\n\n" (carried, not committed)
//   ../../.bench-text/js-encodings.json        our ids for the parity corpus, which the script compares with Rust's
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Tokenizer, trainBpe } from '../dist/index.js';
import { brownDocuments } from './brown.mjs';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const fixtures = here('../test/fixtures/');
const benchDir = here('../../../.bench-text/');
mkdirSync(benchDir, { recursive: true });

const documents = brownDocuments();
writeFileSync(benchDir + 'brown.txt', documents.join('\n\n\n'));

const trainingStart = performance.now();
const trained = trainBpe(brownDocuments(5), { vocabSize: 4096, minFrequency: 2, specialTokens: ['<|endoftext|>', '<|padding|>'] });
console.log(`trained ${trained.vocabSize} tokens in ${((performance.now() - trainingStart) / 1000).toFixed(1)} s`);
writeFileSync(fixtures + 'trained-bpe.tokenizer.json', JSON.stringify(trained, null, 1) + '\n');

const corpus = JSON.parse(readFileSync(fixtures + 'parity-corpus.json', 'utf8'));
const neox = await Tokenizer.fromFile(fixtures + 'gpt-neox-20b.tokenizer.json');
const reloaded = await Tokenizer.fromFile(fixtures + 'trained-bpe.tokenizer.json');
const encodings = {
  'gpt-neox-20b': corpus.map((text) => neox.encode(text)),
  'trained-bpe': corpus.map((text) => reloaded.encode(text)),
};
writeFileSync(benchDir + 'js-encodings.json', JSON.stringify(encodings));
console.log(`wrote ${benchDir}: brown.txt (${documents.length} documents), js-encodings.json`);
