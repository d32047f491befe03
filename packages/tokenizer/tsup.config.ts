import { defineConfig } from 'tsup';
import { packageBuild } from '../../tooling/tsup.preset.ts';

export default defineConfig(packageBuild(['src/index.ts']));
