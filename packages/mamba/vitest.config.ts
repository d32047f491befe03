import { fileURLToPath } from 'node:url';
import { packageTests } from '../../tooling/vitest.preset.ts';

const config = packageTests('mamba');
// The preset maps `@ssmjs/core` to core's src/index.ts, which would also capture `@ssmjs/core/node`;
// that subpath has to be matched first.
const presetAliases = Object.entries((config.resolve?.alias ?? {}) as Record<string, string>).map(([find, replacement]) => ({ find, replacement }));
config.resolve = {
  ...config.resolve,
  alias: [{ find: '@ssmjs/core/node', replacement: fileURLToPath(new URL('../core/src/node.ts', import.meta.url)) }, ...presetAliases],
};

export default config;
