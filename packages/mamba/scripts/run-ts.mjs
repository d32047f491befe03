// Runs a TypeScript script of this package against the workspace sources: esbuild bundles it (resolving
// @ssmjs/* through the tsconfig paths), then Node runs the bundle.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.resolve('tsup'));
const esbuild = require('esbuild');
const [script, ...args] = process.argv.slice(2);
const dir = mkdtempSync(join(tmpdir(), 'ssmjs-script-'));
const bundle = join(dir, 'script.mjs');
await esbuild.build({ entryPoints: [script], bundle: true, platform: 'node', format: 'esm', outfile: bundle, tsconfig: 'tsconfig.json', logLevel: 'warning' });
try {
  execFileSync(process.execPath, [bundle, ...args], { stdio: 'inherit' });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
