import { defineConfig } from 'tsup';
import { packageBuild } from '../../tooling/tsup.preset.ts';

// `node` imports the main entry by the package name (kept external) so both share one engine.
export default defineConfig(
  packageBuild(
    { index: 'src/index.ts', demo: 'src/demo.ts', node: 'src/node.ts' },
    // The wasm backend loads its kernels from next to dist/index.js (new URL('./core-simd.wasm', import.meta.url)).
    {
      external: ['@ssmjs/core'],
      onSuccess: 'node scripts/copy-wasm.mjs',
      // tsup drops triple-slash references; consumers' tsc needs it to know GPUDevice, GPUBuffer, ….
      dts: { banner: '/// <reference types="@webgpu/types" />' },
    },
  ),
);
