import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

describe('browser bundle', () => {
  it('bundles for the browser without touching the file system module', async () => {
    const result = await build({
      entryPoints: [fileURLToPath(new URL('../src/index.ts', import.meta.url))],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      logLevel: 'silent',
    });
    expect(result.errors).toEqual([]);
    const code = result.outputFiles[0]!.text;
    // fromFile keeps its import of fs computed at run time, so nothing from Node is pulled in.
    expect(code).not.toMatch(/require\(["']|from ["'](node:)?fs/);
    expect(code).toContain('Tokenizer');
  });
});
