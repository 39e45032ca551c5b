// The images a run trains, validates and tests on, from its config and the dataset's sizes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseWith, trainConfigSchema, type TrainConfigInput } from '@depthfold/core';
import { runSplits, splitTrainingSet } from '../src/training-split.js';

const config = (input: TrainConfigInput) =>
  parseWith(trainConfigSchema, { seed: 11, batchSize: 8, ...input }, 'config');

test('validation is held out of training, the training subset drawn from the rest, the test images counted from 0', () => {
  const splits = runSplits(config({ validation: 10, trainLimit: 30, testLimit: 20 }), { train: 100, test: 50 });
  assert.equal(splits.train.length, 30);
  assert.equal(splits.validation.length, 10);
  const held = new Set(splits.validation);
  assert.deepEqual(
    [...splits.train].filter((i) => held.has(i)),
    [],
  );
  assert.ok([...splits.train, ...splits.validation].every((i) => i < 100));
  assert.deepEqual(
    [...splits.test],
    Array.from({ length: 20 }, (_, i) => i),
  );
  const { train, validation } = splitTrainingSet(100, 10, 30, 11);
  assert.deepEqual(splits.train, train);
  assert.deepEqual(splits.validation, validation);
});

test('without limits a run trains on every training image and tests on every test image', () => {
  const splits = runSplits(config({}), { train: 40, test: 25 });
  assert.deepEqual(
    [...splits.train],
    Array.from({ length: 40 }, (_, i) => i),
  );
  assert.equal(splits.validation.length, 0);
  assert.equal(splits.test.length, 25);
});

test('a batch larger than the training images is refused, naming both sizes', () => {
  assert.throws(
    () => runSplits(config({ batchSize: 64, trainLimit: 30 }), { train: 100, test: 10 }),
    /batchSize 64 is larger than the 30 training images/,
  );
});
