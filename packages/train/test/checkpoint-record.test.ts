// What a checkpoint records of an epoch: the run's settings less where and how it was started, its figures less
// wall-clock timings, and copies of the architecture.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DATASET_LABELS,
  checkpointInfoSchema,
  parseWith,
  resolveArchitecture,
  survivalProbs,
  trainConfigSchema,
  type EpochMetrics,
} from '@depthfold/core';
import { checkpointInfo } from '../src/checkpoint-record.js';

const settings = {
  dataset: 'fashion-mnist',
  arch: 'resnet8',
  survivalRule: 'linear',
  survivalProb: 0.5,
  seed: 2,
} as const;
const config = parseWith(trainConfigSchema, { ...settings, runDir: '/somewhere/run', resume: true }, 'config');
const architecture = resolveArchitecture({ arch: 'resnet8' }, { height: 28, width: 28, channels: 1 }, 10);
const probs = survivalProbs('linear', 3, 0.5);
const line: EpochMetrics = {
  epoch: 3,
  step: 30,
  learningRate: 0.05,
  trainLoss: 0.9,
  trainError: 0.3,
  testLoss: 1.1,
  testError: 0.35,
  testExamples: 100,
  validationLoss: 1.2,
  validationError: 0.4,
  seconds: 12.5,
  imagesPerSecond: 160,
  dataWaitShare: 0.01,
  expectedDepth: 2,
  realisedDepth: 2.1,
  gradMagnitude: { conv: 0.01 },
  backend: 'wasm',
  workers: 2,
  precision: 'bf16',
};
const normalization = { mean: [0.29], std: [0.35] };
const epochPlan = [
  { fromEpoch: 0, epochs: 2 },
  { fromEpoch: 2, epochs: 4 },
];
const info = checkpointInfo({
  config,
  architecture,
  preprocessing: undefined,
  labels: DATASET_LABELS['fashion-mnist'],
  probs,
  normalization,
  dataset: { name: 'fashion-mnist', trainExamples: 640 },
  line,
  backend: 'wasm',
  precision: 'bf16',
  epochPlan,
});

test('the recorded settings leave out runDir and resume, so a checkpoint does not depend on where it was written', () => {
  assert.equal(info.config.runDir, undefined);
  assert.equal(info.config.resume, false);
  // As JSON, the form the checkpoint stores: the same bytes as a run given neither.
  assert.equal(JSON.stringify(info.config), JSON.stringify(parseWith(trainConfigSchema, settings, 'config')));
});

test("the epoch, steps and figures are the epoch's line, which it carries without timings", () => {
  assert.equal(info.epoch, 3);
  assert.equal(info.step, 30);
  assert.deepEqual(info.metrics, {
    epochs: 3,
    steps: 30,
    trainLoss: 0.9,
    trainError: 0.3,
    testLoss: 1.1,
    testError: 0.35,
    testExamples: 100,
    validationLoss: 1.2,
    validationError: 0.4,
    backend: 'wasm',
    precision: 'bf16',
  });
  const { seconds: _seconds, imagesPerSecond: _rate, dataWaitShare: _wait, ...untimed } = line;
  assert.deepEqual(info.epochMetrics, untimed);
});

test('architecture, schedule, labels and data are recorded, and the record is a valid checkpoint info', () => {
  assert.deepEqual(info.architecture, architecture);
  assert.equal(info.preprocessing, undefined, 'none recorded for a built-in dataset at its own size');
  assert.equal(info.metrics.precision, 'bf16');
  assert.deepEqual(info.schedule, { rule: 'linear', survivalProb: 0.5, survivalProbs: probs });
  assert.deepEqual(info.labels, [...DATASET_LABELS['fashion-mnist']]);
  assert.deepEqual(info.dataset, { name: 'fashion-mnist', trainExamples: 640 });
  assert.equal(info.normalization, normalization);
  assert.deepEqual(info.epochPlan, epochPlan);
  assert.deepEqual(parseWith(checkpointInfoSchema, info, 'checkpoint info'), info);
});
