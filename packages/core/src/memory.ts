import { collectTensors, engine } from './engine';
import type { Tensor } from './tensor';

export interface MemoryInfo {
  /** Tensors made and not yet disposed. */
  liveTensors: number;
  /** Bytes and buffers each started backend holds. */
  backends: Record<string, { bytes: number; buffers: number }>;
}

/** Live tensors and bytes per backend: what leak tests compare before and after a loop. */
export function memory(): MemoryInfo {
  const backends: MemoryInfo['backends'] = {};
  for (const name of engine.backendNames()) {
    const b = engine.findBackend(name);
    if (b) backends[name] = b.memory();
  }
  return { liveTensors: engine.liveTensors, backends };
}

/** Runs `fn` and frees every tensor it made that it does not return (see `keep`). */
export function tidy<T>(fn: () => T): T {
  return engine.tidy(fn);
}

/** Marks a tensor to outlive the `tidy` scopes it was made in. */
export function keep<T extends Tensor>(t: T): T {
  return engine.keep(t);
}

/** Disposes tensors found in a value (a tensor, array, or plain object of them). */
export function dispose(value: unknown): void {
  const found = new Set<Tensor>();
  collectTensors(value, found);
  for (const t of found) t.dispose();
}
