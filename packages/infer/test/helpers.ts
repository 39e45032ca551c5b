// Shared by the tests: the fixture model on disk, seeded random images, PNG files written without an encoder, an
// assertion on error messages, and the edits (metadata, digest, weight ranges) that the model-check tests make.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createRng } from '@depthfold/core';
import {
  encodeModel,
  integrityPayload,
  wireRecords,
  withIntegrity,
  type ModelProto,
  type WireRecord,
} from '@depthfold/onnx';
import { type TempFile, tempFile as sharedTempFile } from '@depthfold/testing';
import { INPUT } from './fixtures.js';

/** Writes `bytes` into a fresh temporary directory; `cleanup` removes it. */
export function tempFile(name: string, bytes: Uint8Array | string): TempFile {
  return sharedTempFile(name, bytes, 'depthfold-infer-');
}

/** A seeded random HWC image of the fixture's size, 0..255. */
export function randomImage(seed: number): Uint8Array {
  const rng = createRng(seed);
  return Uint8Array.from({ length: INPUT.height * INPUT.width * INPUT.channels }, () => Math.floor(rng.next() * 256));
}

/** The same pixels reordered HWC -> CHW. */
export function hwcToChw(image: Uint8Array): Uint8Array {
  const { height, width, channels } = INPUT;
  const out = new Uint8Array(image.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) out[(c * height + y) * width + x] = image[(y * width + x) * channels + c]!;
    }
  }
  return out;
}

/** An `assert.rejects`/`assert.throws` validator: the error is an instance of `type` and matches `pattern`. */
export function failsWith(type: abstract new (...args: never[]) => Error, pattern: RegExp) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof type, `expected a ${type.name}, got ${String(error)}`);
    assert.match(error.message, pattern);
    return true;
  };
}

/**
 * `bytes` with the digest of their own graph and weights written in, computed with node:crypto: a model edited on
 * purpose in a test that must still pass the integrity check, to reach the check after it.
 */
export function restamp(bytes: Uint8Array): Uint8Array {
  return withIntegrity(bytes, createHash('sha256').update(integrityPayload(bytes)).digest('hex'));
}

/** `model` with its depthfold metadata edited by `edit` (each entry parsed from JSON), encoded again. */
export function editMetadata(model: ModelProto, edit: (entries: Record<string, unknown>) => void): Uint8Array {
  const entries: Record<string, unknown> = Object.fromEntries(
    model.metadata_props!.map((p) => [p.key!, JSON.parse(p.value!)]),
  );
  edit(entries);
  return encodeModel({
    ...model,
    metadata_props: Object.entries(entries).map(([key, value]) => ({ key, value: JSON.stringify(value) })),
  });
}

/** Where each initializer's raw_data lies in a model file: the bytes of its weights. */
export function weightRanges(bytes: Uint8Array): { start: number; end: number }[] {
  const payloadOf = (buf: Uint8Array, r: WireRecord): [number, number] => {
    let pos = r.start;
    while (buf[pos]! >= 0x80) pos++; // the key
    pos++;
    while (buf[pos]! >= 0x80) pos++; // the length
    return [pos + 1, r.end];
  };
  const graph = wireRecords(bytes).find((r) => r.field === 7)!;
  const [gStart, gEnd] = payloadOf(bytes, graph);
  const ranges: { start: number; end: number }[] = [];
  for (const init of wireRecords(bytes.subarray(gStart, gEnd)).filter((r) => r.field === 5)) {
    const [iStart, iEnd] = payloadOf(bytes, { ...init, start: gStart + init.start, end: gStart + init.end });
    for (const raw of wireRecords(bytes.subarray(iStart, iEnd)).filter((r) => r.field === 9)) {
      const [start, end] = payloadOf(bytes, { ...raw, start: iStart + raw.start, end: iStart + raw.end });
      if (end > start) ranges.push({ start, end });
    }
  }
  return ranges;
}

/** Seeded random 8-bit samples. */
export function randomSamples(length: number, seed: number): Uint8Array {
  const rng = createRng(seed);
  return Uint8Array.from({ length }, () => Math.floor(rng.next() * 256));
}
