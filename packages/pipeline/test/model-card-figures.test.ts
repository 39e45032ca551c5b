// The model card's figures from a small input, each worked out here by hand: counts per class, the most confused
// class (ties to the lowest index), the split sizes, the expected depth and the training time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseWith, requireProvenance, trainConfigSchema, type MetricsLine } from '@depthfold/core';
import { readModelMetadata } from '@depthfold/onnx';
import { modelCardFigures, wilsonInterval, type ModelCardInput } from '../src/model-card-figures.js';

const SHIPPED = join(fileURLToPath(new URL('../../..', import.meta.url)), 'models', 'resnet20-fashion-mnist-v2.onnx');
const shipped = requireProvenance(readModelMetadata(new Uint8Array(readFileSync(SHIPPED)), SHIPPED), SHIPPED);

// Three classes. Class 0: 2 of 3 right, one put in b. Class 1: 2 of 2 right. Class 2: 2 of 4 right, one put in a
// and one in b (a tie, which names a).
const truth = [0, 0, 0, 1, 1, 2, 2, 2, 2];
const predicted = [0, 1, 0, 1, 1, 2, 0, 1, 2];
const metrics: MetricsLine[] = [
  { epoch: 1, seconds: 10, testError: 0.5 },
  { epoch: 2, testError: 0.4 },
  { epoch: 3, seconds: 2.5, testError: 0.3, validationError: 0.35 },
];

function input(edit: Partial<ModelCardInput> = {}): ModelCardInput {
  return {
    modelPath: 'models/tiny-model.onnx',
    modelBytes: 2048,
    metadata: {
      ...shipped,
      labels: ['a', 'b', 'c'],
      dataset: { name: 'fashion-mnist', trainExamples: 900 },
      schedule: { rule: 'linear', survivalProb: 0.5, survivalProbs: [1, 0.75, 0.5] },
    },
    runDir: 'runs/tiny',
    config: parseWith(trainConfigSchema, { validation: 100 }, 'config'),
    metrics,
    trainCommand: 'pnpm train',
    exportCommand: 'pnpm export',
    cardCommand: 'pnpm card',
    hardware: 'a test',
    truth,
    predicted,
    parity: { images: 9, maxAbsDiff: 0, top1Agree: 9 },
    provider: 'cpu',
    generated: new Date(0),
    ...edit,
  };
}

test('accuracy overall and per class, with the confusion matrix they come from', () => {
  const figures = modelCardFigures(input());
  assert.deepEqual(figures.matrix, [
    [2, 1, 0],
    [0, 2, 0],
    [1, 1, 2],
  ]);
  assert.equal(figures.accuracy.successes, 6);
  assert.equal(figures.accuracy.total, 9);
  assert.deepEqual(figures.accuracy, wilsonInterval(6, 9));
  assert.deepEqual(
    figures.perClass.map((c) => [c.index, c.label, c.images, c.accuracy.successes, c.accuracy.value]),
    [
      [0, 'a', 3, 2, 2 / 3],
      [1, 'b', 2, 2, 1],
      [2, 'c', 4, 2, 0.5],
    ],
  );
  assert.deepEqual(
    figures.perClass.map((c) => c.mostConfusedWith),
    [{ index: 1, label: 'b', count: 1 }, undefined, { index: 0, label: 'a', count: 1 }],
  );
});

test('data, depth and training time', () => {
  const figures = modelCardFigures(input());
  assert.equal(figures.name, 'tiny-model');
  assert.equal(figures.trainedImages, 900);
  assert.equal(figures.validationImages, 100);
  assert.equal(figures.trainingSplitImages, 1000);
  assert.equal(figures.blocks, 3);
  assert.equal(figures.expectedBlocks, 2.25);
  assert.equal(figures.epochs, 3);
  // An epoch without a recorded time adds nothing.
  assert.equal(figures.trainingSeconds, 12.5);
  assert.equal(figures.lastEpoch, metrics[2]);
});

test('a run without epochs, a model name in capitals, and no validation split', () => {
  const figures = modelCardFigures(
    input({
      modelPath: 'elsewhere/dir/Net.ONNX',
      metrics: [],
      config: parseWith(trainConfigSchema, { validation: 0 }, 'config'),
    }),
  );
  assert.equal(figures.name, 'Net');
  assert.equal(figures.epochs, 0);
  assert.equal(figures.trainingSeconds, 0);
  assert.equal(figures.lastEpoch, undefined);
  assert.equal(figures.trainingSplitImages, 900);
});

test('a class without test images has no accuracy: the figures refuse it', () => {
  assert.throws(
    () => modelCardFigures(input({ truth: [0, 1, 0], predicted: [0, 1, 1] })),
    /wilsonInterval: expected a positive total, received 0/,
  );
});
