// Consumer script, run with plain Node from a project that installed the packed tarballs: the packages
// through import (their ESM builds), then the shared steps of run-steps.cjs.
// Usage: node node-esm.mjs <checkpoint dir> <expected.safetensors> <backend>
import * as core from '@ssmjs/core';
import * as coreNode from '@ssmjs/core/node';
import * as mamba from '@ssmjs/mamba';
import runSteps from './run-steps.cjs';

await runSteps({ core, coreNode, mamba }, typeof require === 'undefined' ? 'esm' : 'cjs', process.argv.slice(2));
