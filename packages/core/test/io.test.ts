import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CheckpointError, dispose, loadSafetensors, memory, parseSafetensors, serializeSafetensors, tensor,
} from '@ssmjs/core';
import { readSafetensorsFile, readSafetensorsFileWithMetadata, writeFileAtomic, writeSafetensorsFile } from '../src/node';

/** A safetensors file from a header (object or raw JSON text) and data bytes; `headerLength` overrides the prefix. */
function file(header: object | string, data: Uint8Array | number[] = [], headerLength?: number): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerLength ?? json.length, true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function bytesOf(array: ArrayBufferView): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

/** Expects `fn` to throw a CheckpointError matching `pattern` and to leave no tensor behind. */
function expectCheckpointError(fn: () => unknown, pattern: RegExp): void {
  const before = memory().liveTensors;
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(CheckpointError);
  expect((error as Error).message).toMatch(pattern);
  expect(memory().liveTensors).toBe(before);
}

describe('safetensors round trip', () => {
  it('writes F32 and I32 with metadata and reads them back', () => {
    const before = memory().liveTensors;
    const w = tensor([[1.5, -2, 3.25], [0, 1e-20, -7]]);
    const ids = tensor(new Int32Array([-5, 0, 2147483647]), [3]);
    const bytes = serializeSafetensors({ 'layers.0.weight': w, ids }, { format: 'pt' });

    // Header length prefix, padding to 8 bytes, data right after the header.
    const headerLength = new DataView(bytes.buffer).getUint32(0, true);
    expect((8 + headerLength) % 8).toBe(0);
    expect(bytes.length).toBe(8 + headerLength + 6 * 4 + 3 * 4);

    const parsed = parseSafetensors(bytes);
    expect(parsed.metadata).toEqual({ format: 'pt' });
    // Offsets follow name order: 'ids' first.
    expect(Object.keys(parsed.entries)).toEqual(['ids', 'layers.0.weight']);
    expect(parsed.entries['layers.0.weight'].dtype).toBe('F32');
    expect(parsed.entries.ids.dtype).toBe('I32');

    const loaded = loadSafetensors(bytes);
    expect(loaded['layers.0.weight'].shape).toEqual([2, 3]);
    expect(loaded['layers.0.weight'].dtype).toBe('float32');
    expect(Array.from(loaded['layers.0.weight'].dataSync())).toEqual(Array.from(w.dataSync()));
    expect(loaded.ids.dtype).toBe('int32');
    expect(Array.from(loaded.ids.dataSync())).toEqual([-5, 0, 2147483647]);
    dispose([w, ids, loaded]);
    expect(memory().liveTensors).toBe(before);
  });

  it('writes the exact bytes the format prescribes', () => {
    const a = tensor([1, 2]);
    const bytes = serializeSafetensors({ a });
    const json = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'; // 55 bytes → padded to 56
    const expected = new Uint8Array(8 + 56 + 8);
    expected[0] = 56;
    expected.set(new TextEncoder().encode(json.padEnd(56, ' ')), 8);
    expected.set(bytesOf(new Float32Array([1, 2])), 64);
    expect(Array.from(bytes)).toEqual(Array.from(expected));
    a.dispose();
  });

  it('handles scalars and empty tensors', () => {
    const s = tensor(3.5);
    const e = tensor([], [0, 4]);
    const loaded = loadSafetensors(serializeSafetensors({ s, e }));
    expect(loaded.s.shape).toEqual([]);
    expect(Array.from(loaded.s.dataSync())).toEqual([3.5]);
    expect(loaded.e.shape).toEqual([0, 4]);
    dispose([s, e, loaded]);
  });
});

describe('safetensors dtypes', () => {
  it('decodes F16 bit patterns', () => {
    // 1, -2, max half, smallest subnormal, 1/3 rounded, +inf, -inf, -0, NaN
    const bits = new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001, 0x3555, 0x7c00, 0xfc00, 0x8000, 0x7e00]);
    const t = loadSafetensors(file({ h: { dtype: 'F16', shape: [9], data_offsets: [0, 18] } }, bytesOf(bits))).h;
    const v = Array.from(t.dataSync());
    expect(v.slice(0, 5)).toEqual([1, -2, 65504, 2 ** -24, 0.333251953125]);
    expect(v[5]).toBe(Infinity);
    expect(v[6]).toBe(-Infinity);
    expect(Object.is(v[7], -0)).toBe(true);
    expect(v[8]).toBeNaN();
    t.dispose();
  });

  it('decodes BF16 bit patterns', () => {
    // 1, -3.140625, 0.25, +inf, a float32 subnormal (2^-133)
    const bits = new Uint16Array([0x3f80, 0xc049, 0x3e80, 0x7f80, 0x0001]);
    const t = loadSafetensors(file({ b: { dtype: 'BF16', shape: [5], data_offsets: [0, 10] } }, bytesOf(bits))).b;
    expect(Array.from(t.dataSync())).toEqual([1, -3.140625, 0.25, Infinity, 2 ** -133]);
    t.dispose();
  });

  it('decodes F64 to float32', () => {
    const values = new Float64Array([0.1, -1e10, 2 ** -30]);
    const t = loadSafetensors(file({ d: { dtype: 'F64', shape: [3], data_offsets: [0, 24] } }, bytesOf(values))).d;
    expect(Array.from(t.dataSync())).toEqual(Array.from(Float32Array.from(values)));
    t.dispose();
  });

  it('loads I64 in int32 range as int32', () => {
    const values = new BigInt64Array([1n, -1n, 2147483647n, -2147483648n, 0n]);
    const t = loadSafetensors(file({ i: { dtype: 'I64', shape: [5], data_offsets: [0, 40] } }, bytesOf(values))).i;
    expect(t.dtype).toBe('int32');
    expect(Array.from(t.dataSync())).toEqual([1, -1, 2147483647, -2147483648, 0]);
    t.dispose();
  });

  it('refuses I64 out of int32 range, naming the value', () => {
    for (const bad of [2147483648n, -2147483649n, 1n << 40n]) {
      const values = new BigInt64Array([7n, bad]);
      const bytes = file({ ok: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, i: { dtype: 'I64', shape: [2], data_offsets: [4, 20] } }, [
        ...bytesOf(new Float32Array([1])),
        ...bytesOf(values),
      ]);
      // The valid F32 entry is not returned either: nothing half-loaded.
      expectCheckpointError(() => loadSafetensors(bytes), new RegExp(`'i' I64 value ${bad} at index 1 does not fit in int32`));
    }
  });
});

describe('safetensors malformed files', () => {
  const good = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
  const eight = new Uint8Array(8);

  it('file shorter than 8 bytes', () => {
    expectCheckpointError(() => loadSafetensors(new Uint8Array(5)), /file is 5 bytes, expected at least 8/);
  });

  it('header length larger than the file', () => {
    expectCheckpointError(() => loadSafetensors(file(good, eight, 500)), /header length 500 bytes is larger than the \d+ bytes that follow/);
  });

  it('header over 100 MB', () => {
    expectCheckpointError(() => loadSafetensors(file(good, eight, 100_000_001)), /header length 100000001 bytes is over the 100000000-byte/);
    const huge = file(good, eight);
    new DataView(huge.buffer).setUint32(4, 1, true); // 2^32 + n
    expectCheckpointError(() => loadSafetensors(huge), /over the 100000000-byte/);
  });

  it('invalid JSON and non-object headers', () => {
    expectCheckpointError(() => loadSafetensors(file('{"a": {', eight)), /header is not valid JSON/);
    expectCheckpointError(() => loadSafetensors(file('[1, 2]', eight)), /header must be a JSON object, got an array/);
    expectCheckpointError(() => loadSafetensors(file({ a: 3 }, eight)), /entry 'a' must be an object/);
    expectCheckpointError(() => loadSafetensors(file({ __metadata__: { n: 1 } })), /__metadata__.n must be a string/);
  });

  it('unknown dtype', () => {
    expectCheckpointError(() => loadSafetensors(file({ a: { dtype: 'F33', shape: [2], data_offsets: [0, 8] } }, eight)), /'a' has unknown dtype "F33"; expected one of/);
  });

  it('known dtype that is not loadable', () => {
    expectCheckpointError(
      () => loadSafetensors(file({ a: { dtype: 'U64', shape: [1], data_offsets: [0, 8] } }, eight)),
      /'a' has dtype U64, which ssm.js does not load/,
    );
  });

  it('shape and byte length disagree', () => {
    expectCheckpointError(
      () => loadSafetensors(file({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, eight)),
      /'a' F32 \[3\] needs 12 bytes but data_offsets \[0, 8\] hold 8/,
    );
    expectCheckpointError(() => loadSafetensors(file({ a: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, eight)), /shape must be a list of non-negative integers/);
  });

  it('offsets out of range or malformed', () => {
    expectCheckpointError(
      () => loadSafetensors(file({ a: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, eight)),
      /'a' data_offsets \[4, 12\] run past the 8 data bytes/,
    );
    expectCheckpointError(() => loadSafetensors(file({ a: { dtype: 'F32', shape: [0], data_offsets: [8, 4] } }, eight)), /0 ≤ begin ≤ end/);
  });

  it('overlapping offsets', () => {
    const header = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } };
    expectCheckpointError(() => loadSafetensors(file(header, new Uint8Array(12))), /'b' \[4, 12\) overlaps 'a' which ends at 8/);
  });

  it('gaps and trailing bytes (non-contiguous)', () => {
    const gap = { a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } };
    expectCheckpointError(() => loadSafetensors(file(gap, new Uint8Array(12))), /not contiguous: tensor 'b' starts at 8, expected 4 \(end of 'a'\)/);
    const late = { a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } };
    expectCheckpointError(() => loadSafetensors(file(late, eight)), /'a' starts at 4, expected 0/);
    expectCheckpointError(() => loadSafetensors(file(good, new Uint8Array(12))), /tensors cover 8 data bytes but the file holds 12/);
  });

  it('truncated data', () => {
    const full = serializeSafetensors({ a: { dtype: 'float32', shape: [4], data: new Float32Array([1, 2, 3, 4]) } });
    expectCheckpointError(() => loadSafetensors(full.subarray(0, full.length - 3)), /run past the 13 data bytes/);
  });
});

describe('safetensors files (node)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ssmjs-io-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes atomically and reads back', async () => {
    const path = join(dir, 'model.safetensors');
    const w = tensor([[1, 2], [3, 4]]);
    await writeSafetensorsFile(path, { w }, { step: '3' });
    const first = await readSafetensorsFileWithMetadata(path);
    expect(first.metadata).toEqual({ step: '3' });
    expect(Array.from(first.tensors.w.dataSync())).toEqual([1, 2, 3, 4]);
    dispose(first.tensors);
    const b = tensor([9]);
    await writeSafetensorsFile(path, { w, b }); // overwrite in place
    expect(readdirSync(dir)).toEqual(['model.safetensors']); // no temporary file left
    const loaded = await readSafetensorsFile(path);
    expect(Object.keys(loaded).sort()).toEqual(['b', 'w']);
    expect(Array.from(loaded.w.dataSync())).toEqual([1, 2, 3, 4]);
    dispose([w, b, loaded]);
  });

  it('writeFileAtomic writes strings and bytes', async () => {
    const path = join(dir, 'config.json');
    await writeFileAtomic(path, '{"d_model": 8}');
    expect(readFileSync(path, 'utf8')).toBe('{"d_model": 8}');
    await writeFileAtomic(path, new Uint8Array([104, 105]));
    expect(readFileSync(path, 'utf8')).toBe('hi');
    await expect(writeFileAtomic(join(dir, 'missing', 'x'), 'x')).rejects.toThrow(/ENOENT/);
  });
});
