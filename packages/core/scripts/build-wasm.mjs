// Compiles the AssemblyScript kernels (assembly/) into wasm/core-simd.wasm (128-bit SIMD) and
// wasm/core-relaxed.wasm (plus relaxed-SIMD FMA). Both import a shared memory ('env.memory'); the
// loader clears the shared flag when the backend's memory is not shared.
import asc from 'assemblyscript/asc';
import { mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
mkdirSync(`${root}/wasm`, { recursive: true });

const common = [
  'assembly/index.ts', '-O3', '--runtime', 'stub', '--noAssert', '--use', 'abort=',
  '--importMemory', '--noExportMemory', '--sharedMemory', '--initialMemory', '1', '--maximumMemory', '65536',
  '--enable', 'simd', '--enable', 'threads',
];
const variants = { 'core-simd.wasm': [], 'core-relaxed.wasm': ['--enable', 'relaxed-simd'] };

for (const [file, extra] of Object.entries(variants)) {
  // asc reports diagnostics on stderr itself.
  const { error } = await asc.main([...common, ...extra, '--baseDir', root, '-o', `wasm/${file}`], { stdout: process.stdout, stderr: process.stderr });
  if (error) throw new Error(`asc failed for ${file}: ${error.message}`);
  // Kernel modules must not carry data segments: instantiating one (in every worker) would rewrite
  // those bytes of the shared memory, where tensors live.
  if (hasDataSection(readFileSync(`${root}/wasm/${file}`))) throw new Error(`${file} has a data segment; kernels must not use static data`);
  console.log(`built wasm/${file}`);
}

function hasDataSection(bytes) {
  let p = 8;
  while (p < bytes.length) {
    const id = bytes[p++];
    let size = 0;
    for (let shift = 0; ; shift += 7) {
      const b = bytes[p++];
      size |= (b & 0x7f) << shift;
      if (b < 0x80) break;
    }
    if (id === 11 && size > 1) return true;
    p += size;
  }
  return false;
}
