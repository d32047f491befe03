// tsup onSuccess: puts the compiled kernels beside dist/index.js, where the wasm backend looks.
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
mkdirSync(`${root}/dist`, { recursive: true });
const files = readdirSync(`${root}/wasm`).filter((f) => f.endsWith('.wasm'));
if (files.length === 0) throw new Error('no .wasm in packages/core/wasm: run build:wasm first');
for (const f of files) copyFileSync(`${root}/wasm/${f}`, `${root}/dist/${f}`);
console.log(`copied ${files.join(', ')} into dist/`);
