import { defineConfig } from 'tsup';
import { packageBuild } from '../../tooling/tsup.preset.ts';

// fs is reached only through a dynamic import in Tokenizer.fromFile, so it stays out of browser bundles.
export default defineConfig(packageBuild(['src/index.ts'], { external: ['node:fs/promises'] }));
