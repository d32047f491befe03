import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { defineProject, type UserWorkspaceConfig } from 'vitest/config';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * Tests import sibling packages from their sources, so a test run needs no prior build of them:
 * `@ssmjs/x` → packages/x/src/index.ts and a subpath `@ssmjs/x/y` → packages/x/src/y.ts.
 */
function workspaceAliases(): { find: RegExp; replacement: string }[] {
  const packages = join(root, 'packages');
  return [
    { find: /^@ssmjs\/([\w-]+)$/, replacement: join(packages, '$1', 'src', 'index.ts') },
    { find: /^@ssmjs\/([\w-]+)\/([\w-]+)$/, replacement: join(packages, '$1', 'src', '$2.ts') },
  ];
}

/** The vitest project every package shares: node environment, tests under test/, a generous timeout. */
export function packageTests(name: string, extra: UserWorkspaceConfig['test'] = {}) {
  return defineProject({
    resolve: { alias: workspaceAliases() },
    test: {
      name,
      environment: 'node',
      include: ['test/**/*.test.ts'],
      testTimeout: 60_000,
      ...extra,
    },
  });
}
