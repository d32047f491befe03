import { setBackend } from '@ssmjs/core';
import { loadWasmKernels } from '@ssmjs/selective-scan';

/**
 * The backends the tests run on, each with its tolerance against float64 references (relative to the
 * tensor's scale). cpu computes in float64 internally; wasm in f32 with a fast exp (2.3e-7).
 */
export function testedBackends(): [string, number][] {
  return [
    // Measured worst over the fixtures' outputs and gradients: cpu 6e-8, wasm 2.2e-6.
    ['cpu', 1e-6],
    ['wasm', 2e-5],
  ];
}

/** Makes `name` current, with this package's kernels loaded into it. */
export async function useBackend(name: string): Promise<void> {
  await setBackend(name);
  if (name === 'wasm') await loadWasmKernels();
}
