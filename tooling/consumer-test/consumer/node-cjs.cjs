// The CommonJS twin of node-esm.mjs: the packages through require(), so their .cjs builds (and their wasm
// lookup without import.meta) are exercised, then the same steps.
// Usage: node node-cjs.cjs <checkpoint dir> <expected.safetensors> <backend>
const runSteps = require('./run-steps.cjs');

const packages = { core: require('@ssmjs/core'), coreNode: require('@ssmjs/core/node'), mamba: require('@ssmjs/mamba') };
runSteps(packages, typeof require === 'function' && typeof module === 'object' ? 'cjs' : 'esm', process.argv.slice(2)).catch((e) => {
  console.error(e);
  process.exit(1);
});
