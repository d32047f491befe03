import { defineConfig } from 'tsup';
import { packageBuild } from '../../tooling/tsup.preset.ts';

// `node` imports the main entry by the package name (kept external) so both share one engine.
export default defineConfig(
  packageBuild({ index: 'src/index.ts', demo: 'src/demo.ts', node: 'src/node.ts' }, { external: ['@ssmjs/core'] }),
);
