// Runs a TypeScript script of this package against the workspace sources: esbuild bundles it (resolving
// @ssmjs/* through the tsconfig paths), then Node runs the bundle. The backends' .wasm files are copied
// beside the bundle, where their loaders look (next to the code, like a built package).
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.resolve('tsup'));
const esbuild = require('esbuild');
const [script, ...args] = process.argv.slice(2);
const dir = mkdtempSync(join(tmpdir(), 'ssmjs-script-'));
const bundle = join(dir, 'script.mjs');
await esbuild.build({ entryPoints: [script], bundle: true, platform: 'node', format: 'esm', outfile: bundle, tsconfig: 'tsconfig.json', logLevel: 'warning' });
for (const wasmDir of ['../core/wasm', '../selective-scan/wasm']) {
  if (!existsSync(wasmDir)) continue;
  for (const file of readdirSync(wasmDir)) if (file.endsWith('.wasm')) copyFileSync(join(wasmDir, file), join(dir, file));
}
try {
  execFileSync(process.execPath, [bundle, ...args], { stdio: 'inherit' });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
