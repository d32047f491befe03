/**
 * @ssmjs/core — tensors, autograd and backends for ssm.js.
 * The cpu backend is registered on import; wasm and webgpu register themselves from their modules.
 */
import './backends/cpu/index';
import './backends/wasm/index';
import './backends/webgpu/index';

export type { DType, TypedArray } from './dtype';
export * from './errors';
export type { Backend, DataId, TensorInfo, KernelFn, Attrs } from './backend';
export type { GradientFn } from './engine';
export { Tensor } from './tensor';
export { Generator, manualSeed, globalGenerator } from './random';
export { memory, tidy, keep, dispose, type MemoryInfo } from './memory';
export { setBackend, getBackend, registerBackend, registerKernel, registerGradient, runKernel, toBackend, type BackendName } from './backends';
export { computeGradients, grad, grads, valueAndGrad, valueAndGrads, noGrad, recordsGradients } from './autograd';
export { checkGradients, type GradientCheckOptions, type GradientCheckResult } from './gradcheck';
export { CpuBackend, CpuData } from './backends/cpu/index';
export { WasmBackend, WasmData, configureWasm, setWasmThreads, type WasmBackendOptions, type WasmKernelModule, type WasmLocation } from './backends/wasm/index';
export { WebGpuBackend, WebGpuData, MATMUL_LARGE, MATMUL_LARGE_DEEP, MATMUL_SMALL, type WebGpuBackendOptions, type MatmulTiling } from './backends/webgpu/index';

export * from './ops/creation';
export {
  add, sub, mul, div, neg, exp, log, broadcastTo, unbroadcast, pow, maximum, minimum, sqrt, rsqrt, abs, square, sign,
  sin, cos, tanh, sigmoid, silu, softplus, erf, gelu, type GeluOptions,
} from './ops/arithmetic';
export { sum, mean, max, logsumexp, argmax, type ReduceOptions } from './ops/reduce';
export { reshape, transpose, slice, split, concat, stack, pad, gather, scatterAdd, embedding, where, cast, oneHot } from './ops/shape';
export { softmax, logSoftmax, crossEntropy, conv1d, conv1dStep, rmsNorm, addRmsNorm, type Conv1dStepOptions, type CrossEntropyOptions } from './ops/nn';
export { rfft, irfft } from './ops/fft';
export { matmul, type MatmulOptions } from './ops/matmul';
export { sizeOf, broadcastShapes } from './shape';
export * from './io/index';
export * from './nn/index';
export * from './optim/index';
