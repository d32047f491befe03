// Builds the AssemblyScript kernels: assembly/scan.ts twice (plain SIMD, and relaxed SIMD for FMA) and the
// lab's variants. Output: assembly/build/*.wasm. Usage: node kernels/build.mjs
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const asc = fileURLToPath(new URL('../node_modules/.bin/asc', import.meta.url));
mkdirSync(`${root}/assembly/build`, { recursive: true });

// Pure pointer functions over an imported shared memory (so worker threads can share it); no GC.
const common = ['-O3', '--noAssert', '--runtime', 'stub', '--importMemory', '--sharedMemory', '--initialMemory', '1', '--maximumMemory', '65536', '--enable', 'simd', '--enable', 'threads'];
const builds = [
  ['assembly/scan.ts', 'assembly/build/scan-simd.wasm', []],
  ['assembly/scan.ts', 'assembly/build/scan-relaxed.wasm', ['--enable', 'relaxed-simd']],
  ['kernels/v1-scalar.ts', 'assembly/build/lab-v1-scalar.wasm', []],
];
for (const [source, out, extra] of builds) {
  if (process.argv.length > 2 && !process.argv.slice(2).some((name) => source.includes(name))) continue;
  execFileSync(asc, [source, '-o', out, ...common, ...extra], { cwd: root, stdio: 'inherit' });
  console.log(`built ${out}`);
}
