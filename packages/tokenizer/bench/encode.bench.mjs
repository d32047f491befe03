// Encode throughput of @ssmjs/tokenizer against @huggingface/tokenizers (JS) on the same text, in one run.
//   pnpm --filter @ssmjs/tokenizer bench            (builds first; options: --passes N --stride N)
// Text: every 3rd Brown corpus document (~2 MB of English), encoded one document per call, GPT-NeoX-20B's
// tokenizer. Each library gets a warm-up pass, then N timed passes (alternating between them); medians are reported.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { Tokenizer } from '../dist/index.js';
import { brownDocuments } from './brown.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const passes = arg('passes', 5);
const documents = brownDocuments(arg('stride', 3));
const megabytes = documents.reduce((n, d) => n + Buffer.byteLength(d, 'utf8'), 0) / 1e6;

const path = fileURLToPath(new URL('../test/fixtures/gpt-neox-20b.tokenizer.json', import.meta.url));
const json = JSON.parse(readFileSync(path, 'utf8'));
const ours = Tokenizer.fromJSON(json);
const theirs = new HfTokenizer(json, {});

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Times one pass over all documents, in seconds. */
function pass(encode) {
  const start = performance.now();
  for (const d of documents) encode(d);
  return (performance.now() - start) / 1000;
}

// Same ids from both, or the comparison means nothing.
const differing = documents.filter((d) => JSON.stringify(ours.encode(d)) !== JSON.stringify(theirs.encode(d).ids)).length;
console.log(`text: ${documents.length} Brown documents, ${megabytes.toFixed(2)} MB; node ${process.version}; documents encoded differently: ${differing}`);

const libraries = [
  { name: '@ssmjs/tokenizer', encode: (d) => ours.encode(d), seconds: [] },
  { name: '@huggingface/tokenizers', encode: (d) => theirs.encode(d, { add_special_tokens: false }).ids, seconds: [] },
];
for (const lib of libraries) pass(lib.encode); // warm-up: JIT and word caches
// Passes alternate between the libraries, so a busy machine slows both alike.
for (let p = 0; p < passes; p++) for (const lib of libraries) lib.seconds.push(pass(lib.encode));
const rates = libraries.map((lib) => {
  const s = median(lib.seconds);
  console.log(`${lib.name.padEnd(26)} ${(megabytes / s).toFixed(2).padStart(7)} MB/s  (median of ${passes} passes: ${s.toFixed(3)} s)`);
  return megabytes / s;
});
console.log(`ratio: ${(rates[0] / rates[1]).toFixed(2)}x`);

// Cold cache: a fresh tokenizer per pass, so every word is merged once (worst case for the word cache).
{
  const seconds = [];
  for (let p = 0; p < passes; p++) {
    const fresh = Tokenizer.fromJSON(json);
    const start = performance.now();
    for (const d of documents) fresh.encode(d);
    seconds.push((performance.now() - start) / 1000);
  }
  console.log(`${'@ssmjs/tokenizer (cold)'.padEnd(26)} ${(megabytes / median(seconds)).toFixed(2).padStart(7)} MB/s  (first pass of a fresh tokenizer)`);
}
