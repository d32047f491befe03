/**
 * @ssmjs/selective-scan — Mamba's selective scan (S6): forward, backward and one-step update.
 * Importing the package registers its kernels with @ssmjs/core (cpu here; wasm once that backend exists).
 */
import { registerCpuKernels } from './kernels/cpu';

export {
  selectiveScan,
  selectiveStateUpdate,
  type SelectiveScanArgs,
  type SelectiveScanResult,
  type SelectiveStateUpdateArgs,
} from './scan';
export { SCAN_KERNEL, SCAN_BACKWARD_KERNEL, STATE_UPDATE_KERNEL, DEFAULT_CHUNK_SIZE } from './kernels/contract';

registerCpuKernels();
