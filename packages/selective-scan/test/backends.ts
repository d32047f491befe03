import { existsSync } from 'node:fs';
import { registerBackend, setBackend, WebGpuBackend } from '@ssmjs/core';
import { loadWasmKernels } from '@ssmjs/selective-scan';

// WebGPU in Node comes from the `webgpu` package (Dawn); without a GPU it runs on SwiftShader (Debian's chromium).
process.env.VK_ICD_FILENAMES ??= '/usr/lib/chromium/vk_swiftshader_icd.json';

// The webgpu kernels once more without subgroups: the workgroup-memory scans.
registerBackend('webgpu-no-subgroups', () => WebGpuBackend.create({ subgroups: false }), -10);

/**
 * The backends the tests run on, each with its tolerance against float64 references (relative to the
 * tensor's scale). cpu computes in float64 internally; wasm in f32 with a fast exp (2.3e-7); webgpu in
 * f32, its scans summing in a different order than a sequential loop.
 */
export function testedBackends(): [string, number][] {
  return [
    // Measured worst over the fixtures' outputs and gradients: cpu 6e-8, wasm 2.2e-6, webgpu 1.1e-6.
    ['cpu', 1e-6],
    ['wasm', 2e-5],
    ['webgpu', 2e-5],
    ['webgpu-no-subgroups', 2e-5],
  ];
}

/** Makes `name` current, with this package's kernels loaded into it. */
export async function useBackend(name: string): Promise<void> {
  if (name.startsWith('webgpu') && !existsSync(process.env.VK_ICD_FILENAMES!)) {
    throw new Error(`WebGPU tests need a Vulkan driver: ${process.env.VK_ICD_FILENAMES} is missing (apt-get install chromium libvulkan1)`);
  }
  await setBackend(name);
  if (name === 'wasm') await loadWasmKernels();
}
