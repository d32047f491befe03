/**
 * @ssmjs/core/node — file helpers that need Node's `fs` (kept out of the main entry so browsers never
 * see them).
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
// Through the package name, not a relative path: the built node entry must share the main entry's
// engine (one tensor registry), not bundle a second copy of it.
import { loadSafetensorsWithMetadata, saveSafetensors, type HostTensor, type Tensor } from '@ssmjs/core';

/** Reads a safetensors file into tensors on the current backend (see `loadSafetensors`). */
export async function readSafetensorsFile(path: string): Promise<Record<string, Tensor>> {
  return (await readSafetensorsFileWithMetadata(path)).tensors;
}

/** `readSafetensorsFile` plus the file's `__metadata__` strings. */
export async function readSafetensorsFileWithMetadata(path: string): Promise<{ tensors: Record<string, Tensor>; metadata: Record<string, string> }> {
  const bytes = await readFile(path);
  return loadSafetensorsWithMetadata(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

/** Writes tensors as a safetensors file, atomically (see `writeFileAtomic`). */
export async function writeSafetensorsFile(
  path: string,
  record: Record<string, Tensor | HostTensor>,
  metadata?: Record<string, string>,
): Promise<void> {
  await writeFileAtomic(path, await saveSafetensors(record, metadata));
}

/**
 * Writes a file so that readers see either the old content or the whole new one: a temporary file in
 * the same directory (same file system, so the rename is atomic), flushed to disk, then renamed over.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'w');
  try {
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (e) {
    await unlink(temp).catch(() => undefined);
    throw e;
  }
  await syncDirectory(dirname(path));
}

/** Flushes a directory entry (the rename) to disk; best effort, since not every platform can open a directory. */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Windows cannot fsync a directory; the rename itself is still atomic there.
  }
}
