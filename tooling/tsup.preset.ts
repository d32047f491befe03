import type { Options } from 'tsup';

/** The build every package shares: ESM + CJS + .d.ts for the given entry points. */
export function packageBuild(entry: Record<string, string> | string[], extra: Options = {}): Options {
  return {
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'es2022',
    platform: 'neutral',
    shims: true,
    splitting: false,
    treeshake: true,
    ...extra,
  };
}
