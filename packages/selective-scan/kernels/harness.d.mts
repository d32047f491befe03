// Types for the lab runner (harness.mjs), so TypeScript tests can drive the standalone wasm kernels.
export declare const FLAGS: { D: number; z: number; deltaBias: number; initialState: number; softplus: number };
export declare function relaxedSimdSupported(): boolean;
export declare function kernelPath(variant: 'simd' | 'relaxed' | 'v1'): URL;

export interface LabShape {
  batch: number;
  dim: number;
  N: number;
  L: number;
  chunk?: number;
  softplus?: boolean;
}

export interface LabInputs {
  u: Float32Array;
  delta: Float32Array;
  A: Float32Array;
  B: Float32Array;
  C: Float32Array;
  D?: Float32Array;
  z?: Float32Array;
  deltaBias?: Float32Array;
  initialState?: Float32Array;
}

export interface LabProblem {
  batch: number;
  dim: number;
  N: number;
  Np: number;
  L: number;
  chunk: number;
  chunks: number;
  flags: number;
  p: Record<string, number> & { scratch: number[] };
}

export declare class ScanLab {
  static create(options?: { variant?: 'simd' | 'relaxed' | 'v1'; threads?: number; pages?: number }): Promise<ScanLab>;
  readonly memory: WebAssembly.Memory;
  readonly exports: Record<string, (...args: number[]) => void>;
  alloc(count: number): number;
  floats(ptr: number, count: number): Float32Array;
  put(values: Float32Array): number;
  setup(shape: LabShape, inputs: LabInputs): LabProblem;
  forward(problem: LabProblem): { y: Float32Array; lastState: Float32Array; checkpoints: Float32Array };
  close(): Promise<void>;
}
