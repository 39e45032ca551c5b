// Shared by the tests: the fixture model on disk, seeded random images, and an assertion on error messages.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRng } from '@depthfold/core';
import { INPUT } from './fixtures.js';

/** Writes `bytes` into a fresh temporary directory; `cleanup` removes it. */
export function tempFile(name: string, bytes: Uint8Array | string): { path: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'depthfold-infer-'));
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return { path, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
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
