// What the wasm tests use from core, including the engine (not exported from the package).
export { computeGradients, dispose, memory, mul, randn, setBackend, setWasmThreads, sum, tensor, tidy, type Tensor, type WasmBackend } from '@ssmjs/core';
export { engine as engineInternals } from '../src/engine';
export { WasmBackend as WasmBackendClass, withSharedFlag, hasDataSegments } from '../src/backends/wasm/index';
export { WasmAllocator } from '../src/backends/wasm/allocator';
