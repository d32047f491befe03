import { fileURLToPath } from 'node:url';
import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { defineProject, type UserWorkspaceConfig } from 'vitest/config';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Tests import sibling packages from their sources, so a test run needs no prior build of them. */
function workspaceAliases(): Record<string, string> {
  const aliases: Record<string, string> = {};
  const dir = join(root, 'packages');
  for (const name of readdirSync(dir)) {
    const src = join(dir, name, 'src', 'index.ts');
    if (existsSync(src)) aliases[`@ssmjs/${name}`] = src;
  }
  return aliases;
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
