// Which images a run trains on, validates on and tests on: seeded, so a resumed run draws the same ones.
import { createRng, deriveSeed, type TrainConfig } from '@depthfold/core';
import { shuffledOrder } from './data/index.js';

/** The image indices of a run: of the training split for training and validation, of the test split for testing. */
export interface RunSplits {
  train: Uint32Array;
  validation: Uint32Array;
  test: Uint32Array;
}

/** A seeded random subset of `limit` of `indices` (all of them, in order, without a limit). */
function subsetOf(indices: Uint32Array, limit: number | undefined, seed: number): Uint32Array {
  if (limit === undefined || limit >= indices.length) return indices;
  const order = shuffledOrder(indices.length, createRng(deriveSeed(seed, 'subset')).next);
  return order
    .slice(0, limit)
    .map((i) => indices[i]!)
    .sort();
}

/**
 * The training split's indices for training and for validation: `validation` images held out by a seeded choice,
 * then a seeded subset of `trainLimit` of the rest.
 */
export function splitTrainingSet(count: number, validation: number, trainLimit: number | undefined, seed: number) {
  if (validation >= count)
    throw new Error(`train: validation ${validation} leaves none of the ${count} training images`);
  const all = Uint32Array.from({ length: count }, (_, i) => i);
  if (validation === 0) return { train: subsetOf(all, trainLimit, seed), validation: new Uint32Array(0) };
  const order = shuffledOrder(count, createRng(deriveSeed(seed, 'validation')).next);
  const held = order.slice(0, validation).sort();
  return { train: subsetOf(order.slice(validation).sort(), trainLimit, seed), validation: held };
}

/**
 * The splits `config` trains with on a dataset of `counts` images: {@link splitTrainingSet} of its training images
 * (`validation` a count, or a fraction of them),
 * and the first `testLimit` test images (all without a limit). Throws if a batch is larger than the training images.
 */
export function runSplits(config: TrainConfig, counts: { train: number; test: number }): RunSplits {
  // A fraction of the training images, rounded half up (as a folder's split rounds it).
  const held = config.validation < 1 ? Math.round(config.validation * counts.train) : config.validation;
  const { train, validation } = splitTrainingSet(counts.train, held, config.trainLimit, config.seed);
  const test = Uint32Array.from({ length: Math.min(config.testLimit ?? Infinity, counts.test) }, (_, i) => i);
  if (train.length < config.batchSize) {
    throw new Error(`train: batchSize ${config.batchSize} is larger than the ${train.length} training images`);
  }
  return { train, validation, test };
}
