// The core kernel module of @ssmjs/core's wasm backend. Kernels are pure functions on byte offsets
// into the backend's imported memory: no allocation, no static data (see docs/architecture.md).
export { matmul, matmulScratchBytes } from './matmul';
export { unary, binary, castF32ToI32, castI32ToF32 } from './elementwise';
export { reduce } from './reduce';
export { softmax, logSoftmax, crossEntropy, rmsNorm, conv1d } from './nn';
export { copyStrided, fill32, gather, scatterAdd } from './shape';
