import { BackendError } from '../../errors';

/** Where the .wasm files are: a folder URL or path ('…/'), or a function naming each file's location. */
export type WasmLocation = string | URL | ((file: string) => string | URL);

export const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

/** The kernel files the build makes (scripts/build-wasm.mjs). */
export type CoreWasmFile = 'core-simd.wasm' | 'core-relaxed.wasm';

/** Candidate URLs of a core .wasm file: next to this module (dist), or the package's wasm/ (sources). */
function defaultLocations(file: CoreWasmFile): URL[] {
  // Literal `new URL('./x.wasm', import.meta.url)` so that bundlers (Vite, webpack) emit the asset.
  const beside = file === 'core-simd.wasm' ? new URL('./core-simd.wasm', import.meta.url) : new URL('./core-relaxed.wasm', import.meta.url);
  // Running from src/ (tests): the build puts the files in packages/core/wasm/. Not a literal, so
  // bundlers leave it alone.
  const fromSources = `../../../wasm/${file}`;
  return [beside, new URL(fromSources, import.meta.url)];
}

function locationsOf(file: CoreWasmFile, override?: WasmLocation): (string | URL)[] {
  if (override === undefined) return defaultLocations(file);
  if (typeof override === 'function') return [override(file)];
  const base = String(override);
  return [base.endsWith('/') ? base + file : `${base}/${file}`];
}

/** Reads bytes from a URL or path: the file system in Node (file: URLs and paths), fetch elsewhere. */
export async function readBytes(location: string | URL): Promise<Uint8Array<ArrayBuffer>> {
  const url = location instanceof URL ? location : /^[a-z][a-z0-9+.-]*:/i.test(location) ? new URL(location) : null;
  if (isNode && (!url || url.protocol === 'file:')) {
    const fs = await importNode<typeof import('node:fs/promises')>('node:fs/promises');
    return new Uint8Array(await fs.readFile(url ?? location));
  }
  const response = await fetch(url ?? location);
  if (!response.ok) throw new BackendError(`wasm: fetching ${String(location)} gave HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

/** The bytes of a core kernel file from the first location that has it. */
export async function loadCoreWasm(file: CoreWasmFile, override?: WasmLocation): Promise<Uint8Array<ArrayBuffer>> {
  const tried: string[] = [];
  for (const location of locationsOf(file, override)) {
    try {
      return await readBytes(location);
    } catch (e) {
      tried.push(`${String(location)} (${(e as Error).message})`);
    }
  }
  throw new BackendError(
    `wasm: could not load ${file}; tried ${tried.join('; ')}. Build it with 'pnpm --filter @ssmjs/core build:wasm', ` +
      `or say where it is with the wasm backend's 'wasmPaths' option`,
  );
}

/** Node built-ins through a computed specifier, so browser bundlers do not try to resolve them. */
export function importNode<T>(specifier: string): Promise<T> {
  return import(/* @vite-ignore */ /* webpackIgnore: true */ specifier) as Promise<T>;
}

// ---------------------------------------------------------------- binary inspection

function readLeb(bytes: Uint8Array, p: number): [value: number, next: number] {
  let value = 0;
  let shift = 0;
  for (;;) {
    const b = bytes[p++];
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if (b < 0x80) return [value, p];
  }
}

interface MemoryImport {
  /** Offset of the limits flag byte: 0x01 = min + max, 0x03 = shared, min + max. */
  flagOffset: number;
}

/** Finds the memory import of a module (kernel modules import exactly one: env.memory). */
function findMemoryImport(bytes: Uint8Array): MemoryImport | null {
  let p = 8;
  while (p < bytes.length) {
    const id = bytes[p];
    const [size, body] = readLeb(bytes, p + 1);
    if (id === 2) {
      let [count, q] = readLeb(bytes, body);
      while (count-- > 0) {
        let len: number;
        [len, q] = readLeb(bytes, q); // module name
        q += len;
        [len, q] = readLeb(bytes, q); // field name
        q += len;
        const kind = bytes[q++];
        if (kind === 2) return { flagOffset: q };
        if (kind === 0) [, q] = readLeb(bytes, q);
        else if (kind === 1) {
          q++; // element type
          const flags = bytes[q++];
          [, q] = readLeb(bytes, q);
          if (flags & 1) [, q] = readLeb(bytes, q);
        } else if (kind === 3) q += 2;
        else if (kind === 4) [, q] = readLeb(bytes, q + 1);
        else return null;
      }
      return null;
    }
    p = body + size;
  }
  return null;
}

/**
 * A copy of a kernel module whose memory import is declared shared or not, to match the memory it
 * will import (a mismatch fails to link). The import must declare a maximum (asc --maximumMemory).
 */
export function withSharedFlag(bytes: Uint8Array<ArrayBuffer>, shared: boolean): Uint8Array<ArrayBuffer> {
  const found = findMemoryImport(bytes);
  if (!found) throw new BackendError('wasm: the kernel module imports no memory; build it with --importMemory');
  const flag = bytes[found.flagOffset];
  if ((flag & 1) === 0) throw new BackendError('wasm: the kernel module\'s memory import has no maximum; build it with --maximumMemory');
  const want = shared ? flag | 2 : flag & ~2;
  if (want === flag) return bytes;
  const copy = bytes.slice();
  copy[found.flagOffset] = want;
  return copy;
}

/** True when the module has a non-empty data section (it would overwrite tensors on instantiation). */
export function hasDataSegments(bytes: Uint8Array): boolean {
  let p = 8;
  while (p < bytes.length) {
    const id = bytes[p];
    const [size, body] = readLeb(bytes, p + 1);
    if (id === 11) return readLeb(bytes, body)[0] > 0;
    p = body + size;
  }
  return false;
}
