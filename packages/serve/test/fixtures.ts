// The test model: a random ResNet-8 on 28x28x1 Fashion-MNIST-shaped input (seeded, no training), built by
// @depthfold/onnx from the same random checkpoint its own tests use, and written as an .onnx file.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildModel, encodeModel } from '@depthfold/onnx';
import { CASES, metadataFor, randomCheckpoint } from '../../onnx/test/fixtures.js';

/** The served name of the fixture model (its file name without .onnx). */
export const MODEL_NAME = 'tiny-fashion';

/** The fixture's input: one channel, 28x28. */
export const INPUT = { channels: 1, height: 28, width: 28 } as const;

/** Values per image. */
export const IMAGE_SIZE = INPUT.channels * INPUT.height * INPUT.width;

/** The bytes of the fixture model. */
export function fixtureModelBytes(): Uint8Array {
  const checkpoint = randomCheckpoint(CASES[0]!);
  return encodeModel(buildModel(checkpoint, metadataFor(checkpoint, true), { folded: true }));
}

/** A temporary directory holding `tiny-fashion.onnx`, and a function that removes it. */
export async function fixtureModelFile(): Promise<{ path: string; dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'depthfold-serve-'));
  const path = join(dir, `${MODEL_NAME}.onnx`);
  await writeFile(path, fixtureModelBytes());
  return { path, dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Seeded pseudo-random raw pixels (0..255) of `count` images, NCHW. */
export function randomPixels(count: number, seed: number): Uint8Array {
  const out = new Uint8Array(count * IMAGE_SIZE);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < out.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = (s >>> 0) % 256;
  }
  return out;
}

/** Seeded normalised input (what the network takes), NCHW, roughly N(0, 1). */
export function randomInput(count: number, seed: number): Float32Array {
  const pixels = randomPixels(count, seed);
  return Float32Array.from(pixels, (p) => (p / 255 - 0.5) / 0.25);
}
