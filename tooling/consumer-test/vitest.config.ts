import { packageTests } from '../vitest.preset.ts';

// One test file; its beforeAll packs and installs once (about half a minute), the tests share that project.
export default packageTests('consumer-test', { testTimeout: 120_000, hookTimeout: 150_000 });
