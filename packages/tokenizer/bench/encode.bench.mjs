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

/** Times one pass of `work` over all items, in seconds. */
function pass(items, work) {
  const start = performance.now();
  for (const item of items) work(item);
  return (performance.now() - start) / 1000;
}

/** Warm-up, then passes alternating between the libraries (a busy machine slows both alike); medians. */
function compare(title, items, libraries) {
  console.log(title);
  for (const lib of libraries) pass(items, lib.work); // warm-up: JIT and word caches
  const seconds = libraries.map(() => []);
  for (let p = 0; p < passes; p++) libraries.forEach((lib, i) => seconds[i].push(pass(items, lib.work)));
  const rates = libraries.map((lib, i) => {
    const s = median(seconds[i]);
    console.log(`  ${lib.name.padEnd(26)} ${(megabytes / s).toFixed(2).padStart(7)} MB/s  (median of ${passes} passes: ${s.toFixed(3)} s)`);
    return megabytes / s;
  });
  console.log(`  ratio: ${(rates[0] / rates[1]).toFixed(2)}x`);
}

// Same ids from both, or the comparison means nothing.
const differing = documents.filter((d) => JSON.stringify(ours.encode(d)) !== JSON.stringify(theirs.encode(d).ids)).length;
console.log(`text: ${documents.length} Brown documents, ${megabytes.toFixed(2)} MB; node ${process.version}; documents encoded differently: ${differing}`);

compare('encode (MB of text per second)', documents, [
  { name: '@ssmjs/tokenizer', work: (d) => ours.encode(d) },
  { name: '@huggingface/tokenizers', work: (d) => theirs.encode(d, { add_special_tokens: false }).ids },
]);
const encoded = documents.map((d) => ours.encode(d));
const decodedDifferently = encoded.filter((ids) => ours.decode(ids) !== theirs.decode(ids, { clean_up_tokenization_spaces: false })).length;
console.log(`documents decoded differently: ${decodedDifferently}`);
compare('decode (MB of text per second)', encoded, [
  { name: '@ssmjs/tokenizer', work: (ids) => ours.decode(ids) },
  { name: '@huggingface/tokenizers', work: (ids) => theirs.decode(ids, { clean_up_tokenization_spaces: false }) },
]);

// Cold cache: a fresh tokenizer per pass, so every word is merged once (worst case for the word cache).
{
  const seconds = [];
  for (let p = 0; p < passes; p++) {
    const fresh = Tokenizer.fromJSON(json);
    const start = performance.now();
    for (const d of documents) fresh.encode(d);
    seconds.push((performance.now() - start) / 1000);
  }
  console.log(`encode, cold word cache\n  ${'@ssmjs/tokenizer'.padEnd(26)} ${(megabytes / median(seconds)).toFixed(2).padStart(7)} MB/s  (first pass of a fresh tokenizer)`);
}
