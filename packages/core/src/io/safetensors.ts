/**
 * safetensors (https://github.com/huggingface/safetensors): an 8-byte little-endian header length N,
 * N bytes of JSON (`{ name: { dtype, shape, data_offsets: [begin, end] }, __metadata__?: {…} }`), then
 * the tensor bytes, offsets relative to the end of the header. Reading validates the whole header
 * before any tensor is made, so a bad file never gives a half-loaded result.
 */
import type { TypedArray } from '../dtype';
import { engine } from '../engine';
import { CheckpointError, shapeStr } from '../errors';
import { sizeOf } from '../shape';
import type { Tensor } from '../tensor';

/** The largest header accepted (the reference implementation's limit). */
export const MAX_HEADER_BYTES = 100_000_000;

/** Bytes per element of every dtype the format defines. */
const DTYPE_BYTES: Record<string, number> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1,
  I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4,
  I64: 8, U64: 8, F64: 8,
};

export type SafetensorsDType = keyof typeof DTYPE_BYTES;

/** One tensor of a parsed file: its raw little-endian bytes are a view into the file. */
export interface SafetensorsEntry {
  dtype: string;
  shape: number[];
  data: Uint8Array;
}

export interface ParsedSafetensors {
  /** Entries by name, in the order of their offsets. */
  entries: Record<string, SafetensorsEntry>;
  metadata: Record<string, string>;
}

/** Host data to write: what `serializeSafetensors` accepts besides tensors. */
export interface HostTensor {
  dtype: 'float32' | 'int32';
  shape: readonly number[];
  data: Float32Array | Int32Array;
}

// ------------------------------------------------------------------------------------------ reading

/** Reads and validates the header; every entry's data is a view into `bytes` (no copy). */
export function parseSafetensors(bytes: Uint8Array): ParsedSafetensors {
  if (bytes.length < 8) {
    throw new CheckpointError(`safetensors: file is ${bytes.length} bytes, expected at least 8 (the header length)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // u64 little-endian; a high word above 0 is already far beyond the limit.
  const headerLength = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32;
  if (headerLength > MAX_HEADER_BYTES) {
    throw new CheckpointError(`safetensors: header length ${headerLength} bytes is over the ${MAX_HEADER_BYTES}-byte (100 MB) limit`);
  }
  if (8 + headerLength > bytes.length) {
    throw new CheckpointError(
      `safetensors: header length ${headerLength} bytes is larger than the ${bytes.length - 8} bytes that follow it (file truncated?)`,
    );
  }
  const header = parseHeaderJson(bytes.subarray(8, 8 + headerLength));
  const buffer = bytes.subarray(8 + headerLength);

  const metadata: Record<string, string> = {};
  const found: { name: string; dtype: string; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
        throw new CheckpointError(`safetensors: __metadata__ must be an object of strings, got ${JSON.stringify(raw)}`);
      }
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') throw new CheckpointError(`safetensors: __metadata__.${k} must be a string, got ${JSON.stringify(v)}`);
        define(metadata, k, v);
      }
      continue;
    }
    found.push({ name, ...parseEntry(name, raw, buffer.length) });
  }

  // The data region must be covered exactly: sorted by offset, each tensor starts where the last ended.
  found.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  let previous = '';
  for (const e of found) {
    if (e.begin < expected) {
      throw new CheckpointError(`safetensors: tensor '${e.name}' [${e.begin}, ${e.end}) overlaps '${previous}' which ends at ${expected}`);
    }
    if (e.begin > expected) {
      throw new CheckpointError(
        `safetensors: offsets are not contiguous: tensor '${e.name}' starts at ${e.begin}, expected ${expected}${previous ? ` (end of '${previous}')` : ''}`,
      );
    }
    expected = e.end;
    previous = e.name;
  }
  if (expected !== buffer.length) {
    throw new CheckpointError(`safetensors: tensors cover ${expected} data bytes but the file holds ${buffer.length} after the header`);
  }

  const entries: Record<string, SafetensorsEntry> = {};
  for (const e of found) define(entries, e.name, { dtype: e.dtype, shape: e.shape, data: buffer.subarray(e.begin, e.end) });
  return { entries, metadata };
}

/** Sets an own property, even for names like '__proto__' that plain assignment would misread. */
function define<T>(record: Record<string, T>, name: string, value: T): void {
  Object.defineProperty(record, name, { value, enumerable: true, writable: true, configurable: true });
}

function parseHeaderJson(headerBytes: Uint8Array): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    throw new CheckpointError('safetensors: header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(`safetensors: header is not valid JSON (${(e as Error).message}); starts with ${JSON.stringify(text.slice(0, 40))}`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw new CheckpointError(`safetensors: header must be a JSON object, got ${Array.isArray(header) ? 'an array' : JSON.stringify(header)}`);
  }
  return header as Record<string, unknown>;
}

function parseEntry(name: string, raw: unknown, bufferLength: number): { dtype: string; shape: number[]; begin: number; end: number } {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new CheckpointError(`safetensors: entry '${name}' must be an object with dtype, shape, data_offsets, got ${JSON.stringify(raw)}`);
  }
  const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>;
  if (typeof dtype !== 'string' || !(dtype in DTYPE_BYTES)) {
    throw new CheckpointError(`safetensors: tensor '${name}' has unknown dtype ${JSON.stringify(dtype)}; expected one of ${Object.keys(DTYPE_BYTES).join(', ')}`);
  }
  if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
    throw new CheckpointError(`safetensors: tensor '${name}' shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || offsets.some((o) => !Number.isSafeInteger(o) || o < 0) || offsets[0] > offsets[1]) {
    throw new CheckpointError(`safetensors: tensor '${name}' data_offsets must be [begin, end] with 0 ≤ begin ≤ end, got ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  const expectedBytes = sizeOf(shape) * DTYPE_BYTES[dtype];
  if (end - begin !== expectedBytes) {
    throw new CheckpointError(
      `safetensors: tensor '${name}' ${dtype} ${shapeStr(shape)} needs ${expectedBytes} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}`,
    );
  }
  if (end > bufferLength) {
    throw new CheckpointError(`safetensors: tensor '${name}' data_offsets [${begin}, ${end}] run past the ${bufferLength} data bytes of the file`);
  }
  return { dtype, shape: [...shape] as number[], begin, end };
}

/** Decodes one entry to the engine's dtypes: floats to float32, integers to int32 (checked). */
export function decodeEntry(name: string, entry: SafetensorsEntry): HostTensor {
  const { dtype, shape, data } = entry;
  const n = sizeOf(shape);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  switch (dtype) {
    case 'F32': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
      return { dtype: 'float32', shape, data: out };
    }
    case 'F64': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(8 * i, true);
      return { dtype: 'float32', shape, data: out };
    }
    case 'F16': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = float16ToNumber(view.getUint16(2 * i, true));
      return { dtype: 'float32', shape, data: out };
    }
    case 'BF16': {
      // bfloat16 is the top half of a float32.
      const bits = new Uint32Array(n);
      for (let i = 0; i < n; i++) bits[i] = view.getUint16(2 * i, true) << 16;
      return { dtype: 'float32', shape, data: new Float32Array(bits.buffer) };
    }
    case 'I32': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt32(4 * i, true);
      return { dtype: 'int32', shape, data: out };
    }
    case 'I64': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const low = view.getInt32(8 * i, true);
        const high = view.getInt32(8 * i + 4, true);
        // In int32 range exactly when the high word is the sign extension of the low word.
        if (high !== low >> 31) {
          const value = view.getBigInt64(8 * i, true);
          throw new CheckpointError(`safetensors: tensor '${name}' I64 value ${value} at index ${i} does not fit in int32 [-2147483648, 2147483647]`);
        }
        out[i] = low;
      }
      return { dtype: 'int32', shape, data: out };
    }
    case 'U8':
    case 'BOOL':
      return { dtype: 'int32', shape, data: Int32Array.from(data) };
    case 'I8':
      return { dtype: 'int32', shape, data: Int32Array.from(new Int8Array(data.buffer, data.byteOffset, n)) };
    default:
      throw new CheckpointError(`safetensors: tensor '${name}' has dtype ${dtype}, which ssm.js does not load; expected F32, F16, BF16, F64, I32, I64, U8, I8 or BOOL`);
  }
}

/** IEEE half precision bits → number (subnormals, infinities and NaN included). */
export function float16ToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/**
 * Reads a safetensors file into tensors (on the current backend). Every entry is decoded before the
 * first tensor is made, so an error leaves nothing allocated.
 */
export function loadSafetensors(bytes: Uint8Array): Record<string, Tensor> {
  return loadSafetensorsWithMetadata(bytes).tensors;
}

/** `loadSafetensors` plus the file's `__metadata__` strings (a trainer's step count, a format tag). */
export function loadSafetensorsWithMetadata(bytes: Uint8Array): { tensors: Record<string, Tensor>; metadata: Record<string, string> } {
  const { entries, metadata } = parseSafetensors(bytes);
  const decoded = Object.entries(entries).map(([name, entry]) => [name, decodeEntry(name, entry)] as const);
  const tensors: Record<string, Tensor> = {};
  for (const [name, host] of decoded) define(tensors, name, engine.fromValues(host.data, host.shape, host.dtype));
  return { tensors, metadata };
}

// ------------------------------------------------------------------------------------------ writing

/**
 * Writes tensors (float32 → F32, int32 → I32) and string metadata as safetensors bytes. Tensors are
 * read with `dataSync()`; for GPU tensors use `saveSafetensors`. Data are laid out in name order.
 */
export function serializeSafetensors(record: Record<string, Tensor | HostTensor>, metadata?: Record<string, string>): Uint8Array {
  const items = Object.keys(record)
    .sort()
    .map((name) => {
      if (name === '__metadata__') throw new CheckpointError(`safetensors: '__metadata__' is reserved and cannot name a tensor`);
      const t = record[name];
      const data: TypedArray = 'dataSync' in t ? t.dataSync() : t.data;
      if (t.dtype !== 'float32' && t.dtype !== 'int32') throw new CheckpointError(`safetensors: tensor '${name}' has dtype ${String(t.dtype)}, expected float32 or int32`);
      if (data.length !== sizeOf(t.shape)) {
        throw new CheckpointError(`safetensors: tensor '${name}' has ${data.length} values for shape ${shapeStr(t.shape)} (expected ${sizeOf(t.shape)})`);
      }
      return { name, dtype: t.dtype === 'float32' ? 'F32' : 'I32', shape: [...t.shape], data };
    });
  return encode(items, metadata);
}

/** Like `serializeSafetensors`, reading tensors with `await data()` so any backend works. */
export async function saveSafetensors(record: Record<string, Tensor | HostTensor>, metadata?: Record<string, string>): Promise<Uint8Array> {
  const host: Record<string, HostTensor> = {};
  for (const [name, t] of Object.entries(record)) {
    host[name] = 'dataSync' in t ? { dtype: t.dtype, shape: t.shape, data: await t.data() } : t;
  }
  return serializeSafetensors(host, metadata);
}

function encode(items: { name: string; dtype: string; shape: number[]; data: TypedArray }[], metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new CheckpointError(`safetensors: metadata '${k}' must be a string, got ${typeof v}`);
    }
    header.__metadata__ = metadata;
  }
  let offset = 0;
  for (const item of items) {
    const bytes = item.data.length * 4;
    define(header, item.name, { dtype: item.dtype, shape: item.shape, data_offsets: [offset, offset + bytes] });
    offset += bytes;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  // The data start on an 8-byte boundary: pad the header with spaces (the format allows trailing whitespace).
  const headerLength = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLength + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerLength, true);
  view.setUint32(4, 0, true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const item of items) {
    for (let i = 0; i < item.data.length; i++, at += 4) {
      if (item.dtype === 'F32') view.setFloat32(at, item.data[i], true);
      else view.setInt32(at, item.data[i], true);
    }
  }
  return out;
}
