import type { Backend, KernelFn } from './backend';
import { engine, type GradientFn } from './engine';
import { BackendError } from './errors';
import type { Tensor } from './tensor';

export type BackendName = 'cpu' | 'wasm' | 'webgpu' | (string & {});

/**
 * Selects the backend new tensors go to. 'auto' takes the best registered one that starts
 * (webgpu → wasm → cpu) and returns its name.
 */
export async function setBackend(name: BackendName | 'auto'): Promise<string> {
  if (name !== 'auto') return (await engine.setBackend(name)).name;
  const failures: string[] = [];
  for (const candidate of engine.backendNames()) {
    try {
      return (await engine.setBackend(candidate)).name;
    } catch (e) {
      failures.push(`${candidate}: ${(e as Error).message}`);
    }
  }
  throw new BackendError(`no backend could start:\n${failures.join('\n')}`);
}

export function getBackend(): string {
  return engine.backend.name;
}

export function registerBackend(name: string, factory: () => Backend | Promise<Backend>, priority = 0): void {
  engine.registerBackend(name, factory, priority);
}

/** Adds a kernel for an op on one backend; packages use this to bring their own ops. */
export function registerKernel(name: string, backend: string, fn: KernelFn): void {
  engine.registerKernel(name, backend, fn);
}

/** Adds the gradient of an op, written with other ops. */
export function registerGradient(name: string, fn: GradientFn): void {
  engine.registerGradient(name, fn);
}

/** Runs an op by name: the way packages call the kernels they registered. */
export function runKernel(name: string, inputs: readonly Tensor[], attrs: Record<string, unknown> = {}): Tensor[] {
  return engine.runKernel(name, inputs, attrs);
}

/** A copy of `x` on another (started) backend. */
export async function toBackend(x: Tensor, name: string): Promise<Tensor> {
  const target = await engine.startBackend(name);
  return engine.fromValues(await x.data(), x.shape, x.dtype, target);
}
