// serve's fixture model: a random ResNet-8 on 28x28x1 Fashion-MNIST-shaped input (seeded, no training), from the
// first of @depthfold/testing's cases, written as an .onnx file under the name it is served by; and seeded requests.
import * as onnx from '@depthfold/onnx';
import {
  CASES,
  modelBytesOf,
  randomCheckpoint,
  randomPixels as seededPixels,
  type TempFile,
  tempFile,
} from '@depthfold/testing';

/** The served name of the fixture model (its file name without .onnx). */
export const MODEL_NAME = 'tiny-fashion';

/** The fixture's input: one channel, 28x28. */
export const INPUT = { channels: 1, height: 28, width: 28 } as const;

/** Values per image. */
export const IMAGE_SIZE = INPUT.channels * INPUT.height * INPUT.width;

/** The bytes of the fixture model. */
export function fixtureModelBytes(): Uint8Array {
  return modelBytesOf(onnx, randomCheckpoint(CASES[0]!));
}

/** A temporary directory holding `tiny-fashion.onnx`, and a function that removes it. */
export function fixtureModelFile(): TempFile {
  return tempFile(`${MODEL_NAME}.onnx`, fixtureModelBytes(), 'depthfold-serve-');
}

/** Seeded pseudo-random raw pixels (0..255) of `count` images, NCHW. */
export function randomPixels(count: number, seed: number): Uint8Array {
  return seededPixels(count * IMAGE_SIZE, seed);
}

/** Seeded normalised input (what the network takes), NCHW, roughly N(0, 1). */
export function randomInput(count: number, seed: number): Float32Array {
  const pixels = randomPixels(count, seed);
  return Float32Array.from(pixels, (p) => (p / 255 - 0.5) / 0.25);
}
