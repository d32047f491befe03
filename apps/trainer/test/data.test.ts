import { mkdtemp, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { brownCorpus, DataError, detokenizeBrown, splitDocuments, textDocuments } from '../src/data';

describe('data', () => {
  it('detokenizes tagged Brown text', () => {
    const tagged = "\n\n\tThe/at jury/nn said/vbd ``/`` no/at evidence/nn ''/'' ,/, which/wdt (/( over-all/jj )/) was/bedz n't/* it's/pps+bez ./.\n\n\tNext/ap ./.\n";
    expect(detokenizeBrown(tagged)).toBe('The jury said "no evidence", which (over-all) wasn\'t it\'s.\nNext.');
  });

  it('loads the real Brown corpus: 500 documents of prose', async () => {
    const docs = await brownCorpus();
    expect(docs.length).toBe(500);
    const chars = docs.reduce((n, d) => n + d.text.length, 0);
    expect(chars).toBeGreaterThan(5_000_000);
    expect(docs[0].text.startsWith('The Fulton County Grand Jury said Friday an investigation of')).toBe(true);
    expect(docs.some((d) => /\w\/(at|nn|vbd|jj) /.test(d.text))).toBe(false);
    expect(docs.some((d) => d.text.includes(';;'))).toBe(false);
    const { train, heldOut } = splitDocuments(docs);
    expect(heldOut.length).toBe(25);
    expect(train.length + heldOut.length).toBe(500);
  });

  it('reads text files and directories, and refuses missing or empty data', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ssm-data-'));
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'a.txt'), 'alpha');
    await writeFile(join(dir, 'sub', 'b.md'), 'beta');
    await writeFile(join(dir, 'skip.bin'), 'x');
    expect((await textDocuments(dir)).map((d) => d.text)).toEqual(['alpha', 'beta']);
    await expect(textDocuments(join(dir, 'nope'))).rejects.toThrow(DataError);
    await writeFile(join(dir, 'empty.txt'), '');
    await expect(textDocuments(join(dir, 'empty.txt'))).rejects.toThrow(/is empty/);
  });
});
