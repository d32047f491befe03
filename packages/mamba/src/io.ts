/**
 * Where checkpoints come from and go to: a directory (Node), a base URL (fetch), or bytes and tensors
 * already in memory. Node's file system is imported dynamically, only when a path is given, so browser
 * bundles of this package never pull it in.
 */
import { CheckpointError, decodeEntry, parseSafetensors, type HostTensor, type Tensor } from '@ssmjs/core';
import type { HostWeight } from './weights';

export const CONFIG_FILE = 'config.json';
export const WEIGHTS_FILE = 'model.safetensors';
export const INDEX_FILE = 'model.safetensors.index.json';

/** A checkpoint already in memory. */
export interface InMemoryCheckpoint {
  /** The parsed config.json (either form) or a MambaConfig. */
  config: unknown;
  /** safetensors bytes (one file or the shards), or tensors by name. */
  weights: Uint8Array | readonly Uint8Array[] | Record<string, Tensor | HostTensor> | ReadonlyMap<string, Tensor | HostTensor>;
}

/** A directory path (Node), a base URL (http(s): fetch), or a checkpoint in memory. */
export type PretrainedSource = string | URL | InMemoryCheckpoint;

/** Where `save` writes: a directory path (Node) or anything that can store named files. */
export type CheckpointTarget = string | CheckpointWriter;

export interface CheckpointWriter {
  write(name: string, data: Uint8Array | string): Promise<void> | void;
}

/** Reads config.json and every weight (decoded to float32 on the host) from a source. */
export async function readCheckpoint(source: PretrainedSource): Promise<{ config: unknown; weights: Map<string, HostWeight> }> {
  if (typeof source === 'string' || source instanceof URL) {
    const reader = isUrl(source) ? urlReader(String(source)) : await directoryReader(String(source));
    const config = JSON.parse(await reader.text(CONFIG_FILE));
    return { config, weights: await readWeights(reader) };
  }
  if (source === null || typeof source !== 'object' || !('config' in source) || !('weights' in source)) {
    throw new CheckpointError('fromPretrained: expected a directory path, a base URL, or { config, weights }');
  }
  const { weights } = source;
  if (weights instanceof Uint8Array) return { config: source.config, weights: decodeShards([{ name: 'weights', bytes: weights }]) };
  if (Array.isArray(weights)) {
    return { config: source.config, weights: decodeShards(weights.map((bytes, i) => ({ name: `weights[${i}]`, bytes }))) };
  }
  const entries = weights instanceof Map ? [...weights.entries()] : Object.entries(weights as Record<string, Tensor | HostTensor>);
  const out = new Map<string, HostWeight>();
  for (const [name, t] of entries) {
    const data = 'dataSync' in t ? await t.data() : t.data;
    if (!(data instanceof Float32Array)) throw new CheckpointError(`weight '${name}' is ${t.dtype}, expected float32`);
    out.set(name, { shape: [...t.shape], data });
  }
  return { config: source.config, weights: out };
}

function isUrl(source: string | URL): boolean {
  return source instanceof URL || /^https?:\/\//i.test(source);
}

interface FileReader {
  where: string;
  /** The file's bytes, or null when it does not exist. */
  bytes(name: string): Promise<Uint8Array | null>;
  text(name: string): Promise<string>;
}

async function directoryReader(dir: string): Promise<FileReader> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const bytes = async (name: string): Promise<Uint8Array | null> => {
    try {
      const b = await fs.readFile(path.join(dir, name));
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  };
  return {
    where: dir,
    bytes,
    async text(name) {
      const b = await bytes(name);
      if (!b) throw new CheckpointError(`${path.join(dir, name)} does not exist`);
      return new TextDecoder().decode(b);
    },
  };
}

function urlReader(base: string): FileReader {
  const root = base.endsWith('/') ? base : `${base}/`;
  const bytes = async (name: string): Promise<Uint8Array | null> => {
    const url = new URL(name, root).href;
    const response = await fetch(url);
    if (response.status === 404) return null;
    if (!response.ok) throw new CheckpointError(`GET ${url}: HTTP ${response.status} ${response.statusText}`);
    return new Uint8Array(await response.arrayBuffer());
  };
  return {
    where: root,
    bytes,
    async text(name) {
      const b = await bytes(name);
      if (!b) throw new CheckpointError(`GET ${new URL(name, root).href}: not found (404)`);
      return new TextDecoder().decode(b);
    },
  };
}

/** model.safetensors, or the shards model.safetensors.index.json lists. */
async function readWeights(reader: FileReader): Promise<Map<string, HostWeight>> {
  const single = await reader.bytes(WEIGHTS_FILE);
  if (single) return decodeShards([{ name: WEIGHTS_FILE, bytes: single }]);
  const indexBytes = await reader.bytes(INDEX_FILE);
  if (!indexBytes) throw new CheckpointError(`${reader.where}: neither ${WEIGHTS_FILE} nor ${INDEX_FILE} was found (only safetensors checkpoints are read)`);
  let weightMap: Record<string, unknown>;
  try {
    weightMap = JSON.parse(new TextDecoder().decode(indexBytes)).weight_map;
  } catch (e) {
    throw new CheckpointError(`${INDEX_FILE} is not valid JSON: ${(e as Error).message}`);
  }
  if (weightMap === null || typeof weightMap !== 'object') throw new CheckpointError(`${INDEX_FILE}: expected a 'weight_map' object of name → shard file`);
  const files = [...new Set(Object.values(weightMap))];
  const shards = [];
  for (const file of files) {
    if (typeof file !== 'string' || file.includes('/') || file.includes('\\')) throw new CheckpointError(`${INDEX_FILE}: shard ${JSON.stringify(file)} must be a file name in the same folder`);
    const bytes = await reader.bytes(file);
    if (!bytes) throw new CheckpointError(`${INDEX_FILE} lists shard '${file}', which was not found in ${reader.where}`);
    shards.push({ name: file, bytes });
  }
  const decoded = decodeShards(shards);
  for (const [name, file] of Object.entries(weightMap)) {
    if (!decoded.has(name)) throw new CheckpointError(`${INDEX_FILE} says '${name}' is in '${String(file)}', but no shard holds it`);
  }
  return decoded;
}

/** Parses every shard (headers checked) and decodes each tensor to float32; names must not repeat. */
function decodeShards(shards: readonly { name: string; bytes: Uint8Array }[]): Map<string, HostWeight> {
  const out = new Map<string, HostWeight>();
  const origin = new Map<string, string>();
  for (const shard of shards) {
    const { entries } = parseSafetensors(shard.bytes);
    for (const [name, entry] of Object.entries(entries)) {
      if (origin.has(name)) throw new CheckpointError(`weight '${name}' is in both '${origin.get(name)}' and '${shard.name}'`);
      const host = decodeEntry(name, entry);
      if (host.dtype !== 'float32') throw new CheckpointError(`weight '${name}' in '${shard.name}' is ${entry.dtype}, expected a floating-point dtype`);
      out.set(name, { shape: host.shape, data: host.data as Float32Array });
      origin.set(name, shard.name);
    }
  }
  return out;
}

/** Writes named files into a directory (created if needed) atomically, or hands them to a writer. */
export async function writeFiles(target: CheckpointTarget, files: Record<string, Uint8Array | string>): Promise<void> {
  if (typeof target !== 'string') {
    for (const [name, data] of Object.entries(files)) await target.write(name, data);
    return;
  }
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const { writeFileAtomic } = await import('@ssmjs/core/node');
  await fs.mkdir(target, { recursive: true });
  for (const [name, data] of Object.entries(files)) await writeFileAtomic(path.join(target, name), data);
}
