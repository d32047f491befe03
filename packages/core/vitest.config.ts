import { packageTests } from '../../tooling/vitest.preset.ts';

// The wasm backend's tests need the kernels compiled: test/build-wasm.setup.ts builds them when stale.
export default packageTests('core', { globalSetup: ['test/build-wasm.setup.ts'] });
