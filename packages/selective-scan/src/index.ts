/**
 * @ssmjs/selective-scan — Mamba's selective scan (S6): forward, backward and one-step update.
 * Importing the package registers its kernels with @ssmjs/core: cpu, webgpu, and wasm (active
 * once `loadWasmKernels()` has compiled them into the wasm backend).
 */
import { registerCpuKernels } from './kernels/cpu';
import { registerWasmKernels } from './kernels/wasm';
import { registerWebGpuKernels } from './kernels/webgpu';

export {
  selectiveScan,
  selectiveStateUpdate,
  type SelectiveScanArgs,
  type SelectiveScanResult,
  type SelectiveStateUpdateArgs,
} from './scan';
export { SCAN_KERNEL, SCAN_BACKWARD_KERNEL, STATE_UPDATE_KERNEL, DEFAULT_CHUNK_SIZE, inferenceChunkSize } from './kernels/contract';

export { loadWasmKernels } from './kernels/wasm';

registerCpuKernels();
registerWasmKernels();
registerWebGpuKernels();
