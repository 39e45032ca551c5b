// infer's fixture model: a random ResNet-8 on 6x5x3 images (height != width and per-channel normalisation that
// differ, so a swapped axis or channel shows), from @depthfold/testing's generators, built by @depthfold/onnx.
import type { Checkpoint, ModelMetadata, Preprocessing } from '@depthfold/core';
import * as onnx from '@depthfold/onnx';
import {
  type Case,
  metadataFor as metadataWith,
  modelBytesOf,
  randomCheckpoint as randomCheckpointOf,
  unstampedMetadataFor as unstampedWith,
} from '@depthfold/testing';

/** Input shape of the fixture model. */
export const INPUT = { height: 6, width: 5, channels: 3 } as const;

/** Per-channel normalisation of the fixture model; every channel differs. */
export const NORMALIZATION = { mean: [0.4, 0.5, 0.6], std: [0.2, 0.25, 0.3] };

const FIXTURE: Case = {
  label: 'resnet8-A-6x5x3',
  arch: 'resnet8',
  input: INPUT,
  seed: 7,
  normalization: NORMALIZATION,
};

/** A seeded random ResNet-8 checkpoint of the fixture's shape. */
export function randomCheckpoint(seed = FIXTURE.seed): Checkpoint {
  return randomCheckpointOf({ ...FIXTURE, seed });
}

/** The metadata an export of `checkpoint` writes (folded form), with the digest of the graph and weights. */
export function metadataFor(checkpoint: Checkpoint): ModelMetadata {
  return metadataWith(onnx, checkpoint, true);
}

/** The metadata of a model exported before the digest existed. */
export function unstampedMetadataFor(checkpoint: Checkpoint): ModelMetadata {
  return unstampedWith(onnx, checkpoint, true);
}

/** The bytes of the fixture's folded .onnx model. */
export function fixtureModelBytes(seed = FIXTURE.seed): Uint8Array {
  return modelBytesOf(onnx, randomCheckpoint(seed));
}

/**
 * A preprocessing that resizes: images of any size are stretched to 6x5, alpha flattened onto a background of
 * three different values (so a swapped channel shows).
 */
export const STRETCH: Preprocessing = {
  resize: 'stretch',
  interpolation: 'bilinear',
  cropFraction: 1,
  colour: 'rgb',
  background: [250, 128, 6],
};

/** The fixture's model exported with `preprocessing` (default {@link STRETCH}) recorded. */
export function resizingModelBytes(preprocessing: Preprocessing = STRETCH, seed = FIXTURE.seed): Uint8Array {
  const checkpoint = randomCheckpoint(seed);
  return modelBytesOf(onnx, { ...checkpoint, info: { ...checkpoint.info, preprocessing } });
}
