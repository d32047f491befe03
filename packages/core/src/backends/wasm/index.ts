import { engine } from '../../engine';
import { BackendError } from '../../errors';
import { WasmBackend, type WasmBackendOptions } from './backend';
import { registerWasmKernels } from './kernels';

export { WasmBackend, WasmData, type WasmBackendOptions, type WasmKernelModule, type CoreKernels } from './backend';
export { withSharedFlag, hasDataSegments, type WasmLocation } from './loader';

let options: WasmBackendOptions = {};

/**
 * Options for the wasm backend (threads, where the .wasm files are, relaxed SIMD, memory bound, the
 * watchdog's time for a worker's part of a kernel).
 * Takes effect when the backend starts (the first `setBackend('wasm')`); threads can change later
 * with `setWasmThreads`.
 */
export function configureWasm(next: WasmBackendOptions): void {
  if (engine.findBackend('wasm') && (next.wasmPaths !== undefined || next.relaxedSimd !== undefined || next.maximumMemoryBytes !== undefined || next.jobTimeoutMs !== undefined)) {
    throw new BackendError('configureWasm: the wasm backend has started; only threads can change now (setWasmThreads)');
  }
  options = { ...options, ...next };
}

/**
 * Threads for big wasm kernels, the main thread included (1 = main thread only). Node only: in
 * browsers the main thread cannot block on Atomics.wait, so the backend runs single-threaded there.
 */
export async function setWasmThreads(threads: number): Promise<void> {
  options = { ...options, threads };
  const backend = engine.findBackend('wasm');
  if (backend) await (backend as WasmBackend).setThreads(threads);
}

// Between cpu (0) and webgpu (2); the module is compiled on the first setBackend('wasm').
engine.registerBackend('wasm', () => WasmBackend.create(options), 1);
registerWasmKernels();
