import { defineConfig } from 'tsup';
import { packageBuild } from '../../tooling/tsup.preset.ts';

// One ESM file for the command; workspace packages stay external (they are dependencies).
export default defineConfig(packageBuild({ cli: 'src/cli.ts', index: 'src/index.ts' }, { format: ['esm'], platform: 'node' }));
