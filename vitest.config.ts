import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*', 'tooling/consumer-test'],
    reporters: ['default', './tooling/summary-reporter.ts'],
  },
});
