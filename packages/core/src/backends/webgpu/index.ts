import { engine } from '../../engine';
import { WebGpuBackend } from './backend';
import { registerWebGpuKernels } from './kernels';

export { WebGpuBackend, WebGpuData, type WebGpuBackendOptions } from './backend';
export { MATMUL_LARGE, MATMUL_LARGE_DEEP, MATMUL_SMALL, type MatmulTiling } from './kernels/matmul.wgsl';

// Highest priority: setBackend('auto') tries webgpu first and falls back (wasm, cpu) when it cannot start.
engine.registerBackend('webgpu', () => WebGpuBackend.create(), 2);
registerWebGpuKernels();
