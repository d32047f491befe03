// vitest globalSetup: compiles the AssemblyScript kernels when wasm/ is missing or older than assembly/,
// so a plain `vitest run` finds the wasm backend's files without a prior package build.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const outputs = ['wasm/core-simd.wasm', 'wasm/core-relaxed.wasm'].map((f) => `${root}/${f}`);
  const newestSource = Math.max(
    ...readdirSync(`${root}/assembly`).map((f) => statSync(`${root}/assembly/${f}`).mtimeMs),
    statSync(`${root}/scripts/build-wasm.mjs`).mtimeMs,
  );
  const stale = outputs.some((f) => !existsSync(f) || statSync(f).mtimeMs < newestSource);
  if (stale) execFileSync(process.execPath, [`${root}/scripts/build-wasm.mjs`], { stdio: 'inherit' });
}
