#!/usr/bin/env node
// Bundle size of every published package: its ESM entry (from dist/, so build first) bundled and minified
// by esbuild with every dependency left external, then gzip -9 of that. Also the wasm files core ships.
// Usage (from the repository root, after `turbo run build`): node tooling/bundle-size.mjs
// Prints a Markdown table (docs/bundle-size.md holds the last one).
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = fileURLToPath(new URL('..', import.meta.url));
// esbuild is not a root dependency; tsup (which is) depends on it, so resolve it from there.
const esbuild = createRequire(createRequire(join(root, 'package.json')).resolve('tsup'))('esbuild');

const PACKAGES = ['packages/core', 'packages/hippo', 'packages/s4', 'packages/selective-scan', 'packages/mamba', 'packages/tokenizer', 'packages/eval', 'apps/trainer'];

/** The ESM file of each `exports` subpath (`.` and e.g. `./node`), as [subpath, file]. */
function esmEntries(pkg) {
  return Object.entries(pkg.exports ?? {})
    .filter(([, target]) => typeof target === 'object')
    .map(([subpath, target]) => [subpath, typeof target.import === 'object' ? target.import.default : target.default]);
}

// Reached only in Node (dynamic imports behind runtime checks); tsup writes them without the node: prefix.
const NODE_BUILTINS = ['node:*', ...builtinModules];

const kB = (n) => `${(n / 1024).toFixed(1)} kB`;

async function measure(dir, subpath, file, pkg) {
  const entry = join(root, dir, file);
  if (!existsSync(entry)) throw new Error(`${entry} is missing: build the packages first (turbo run build)`);
  const result = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2022',
    platform: pkg.bin ? 'node' : 'neutral',
    // Dependencies stay out (a user's bundle has one copy of each).
    packages: 'external',
    external: NODE_BUILTINS,
    // Not the workspace tsconfig: its paths would pull sibling packages in from src/.
    tsconfigRaw: {},
    write: false,
    logLevel: 'error',
  });
  const code = result.outputFiles[0].contents;
  return {
    name: subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`,
    dist: statSync(entry).size,
    minified: code.length,
    gzip: gzipSync(code, { level: 9 }).length,
    // Base64 of a wasm module starts with the magic bytes \0asm → "AGFzbQ".
    inlineWasm: (Buffer.from(code).toString('latin1').match(/AGFzbQ[A-Za-z0-9+/=]+/g) ?? []).reduce((n, b) => n + b.length, 0),
  };
}

/** A page that imports the model, a backend switch and a tokenizer, with every @ssmjs package bundled in. */
async function typicalPage() {
  const result = await esbuild.build({
    stdin: {
      contents: "export { MambaLM } from '@ssmjs/mamba'; export { setBackend, tensor } from '@ssmjs/core'; export { Tokenizer } from '@ssmjs/tokenizer';",
      // The trainer depends on all three, so they resolve from its node_modules, through their exports (dist).
      resolveDir: join(root, 'apps/trainer'),
    },
    bundle: true, minify: true, format: 'esm', target: 'es2022', platform: 'browser',
    external: [...NODE_BUILTINS, 'webgpu'], tsconfigRaw: {}, write: false, logLevel: 'error',
  });
  const code = result.outputFiles[0].contents;
  return { minified: code.length, gzip: gzipSync(code, { level: 9 }).length };
}

const rows = [];
for (const dir of PACKAGES) {
  const pkg = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
  for (const [subpath, file] of esmEntries(pkg)) rows.push(await measure(dir, subpath, file, pkg));
}

console.log('| entry | dist .js | minified | minified + gzip | of which inline wasm (base64) |');
console.log('|---|--:|--:|--:|--:|');
for (const r of rows) console.log(`| \`${r.name}\` | ${kB(r.dist)} | ${kB(r.minified)} | ${kB(r.gzip)} | ${r.inlineWasm ? kB(r.inlineWasm) : '—'} |`);

const page = await typicalPage();
console.log(`\nA page importing { MambaLM }, { setBackend, tensor } and { Tokenizer }, all @ssmjs code bundled: ${kB(page.minified)} minified, ${kB(page.gzip)} gzip.`);

const coreDist = join(root, 'packages/core/dist');
const wasm = readdirSync(coreDist).filter((f) => f.endsWith('.wasm'));
console.log('\n| wasm file (fetched by `setBackend(\'wasm\')`, one of the two) | size | gzip |');
console.log('|---|--:|--:|');
for (const f of wasm) {
  const bytes = readFileSync(join(coreDist, f));
  console.log(`| \`@ssmjs/core/dist/${f}\` | ${kB(bytes.length)} | ${kB(gzipSync(bytes, { level: 9 }).length)} |`);
}
