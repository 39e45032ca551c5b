// The model card's statistics (confusion matrix, Wilson interval) against values worked out by hand, and its words
// for the training run (augmentations, the command that trains it again).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trainConfigSchema } from '@depthfold/core';
import { parseCommandLine } from '@depthfold/core/node';
import { augmentationText, confusionMatrix, epochPlanText, trainCommandOf, wilsonInterval } from '../src/index.js';

test('confusionMatrix counts true class by predicted class', () => {
  assert.deepEqual(confusionMatrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2], 3), [
    [1, 1, 0],
    [0, 1, 0],
    [1, 0, 2],
  ]);
  assert.throws(() => confusionMatrix([0, 1], [0], 2), /2 labels but 1 predictions/);
});

test('wilsonInterval: closed forms at 0 and n, and the textbook value in between', () => {
  const z2 = 1.959963984540054 ** 2;
  const none = wilsonInterval(0, 10);
  assert.equal(none.low, 0);
  assert.ok(Math.abs(none.high - z2 / (10 + z2)) < 1e-12, `0 of 10: upper ${none.high}`);
  const all = wilsonInterval(10, 10);
  assert.ok(
    Math.abs(all.low - 10 / (10 + z2)) < 1e-12 && Math.abs(all.high - 1) < 1e-12,
    `10 of 10: ${all.low} ${all.high}`,
  );
  // 9,400 of 10,000, by hand: centre (0.94 + z²/2n) / (1 + z²/n) = 0.939831, half-width
  // z sqrt(0.94 * 0.06 / n + z²/4n²) / (1 + z²/n) = 0.004657.
  const mid = wilsonInterval(9400, 10000);
  assert.equal(mid.value, 0.94);
  assert.ok(Math.abs(mid.low - 0.935174) < 2e-6 && Math.abs(mid.high - 0.944488) < 2e-6, `${mid.low} ${mid.high}`);
  assert.throws(() => wilsonInterval(0, 0), /positive total, received 0/);
});

test('augmentationText names every augmentation the run used, random erasing with its probability', () => {
  assert.equal(
    augmentationText({ padCrop: 2, flip: true, randomErasing: 0.5 }),
    'Augmentation: random crop after 2-pixel zero padding, random horizontal flip, random erasing (Zhong et al. ' +
      '2020) of one rectangle per image with probability 0.5.',
  );
  assert.equal(
    augmentationText({ padCrop: 2, flip: false, randomErasing: 0 }),
    'Augmentation: random crop after 2-pixel zero padding.',
  );
  assert.equal(augmentationText({ padCrop: 0, flip: false, randomErasing: 0 }), 'No augmentation.');
  assert.equal(
    augmentationText({ padCrop: 0, flip: true, randomErasing: 0, randomResizedCrop: 0.08 }),
    'Augmentation: random resized crop (area share 0.08–1, aspect ratio 3/4–4/3), random horizontal flip.',
  );
});

test('trainCommandOf names --run-dir where the run is not in runs/<name>, and parses back to the config', () => {
  const config = trainConfigSchema.parse({ name: 'r', epochs: 3, randomErasing: 0.5 });
  assert.equal(trainCommandOf(config, 'runs/r'), 'pnpm train --name r --epochs 3 --random-erasing 0.5');
  const moved = trainCommandOf(config, 'models/runs/r');
  assert.equal(moved, 'pnpm train --name r --run-dir models/runs/r --epochs 3 --random-erasing 0.5');
  const parsed = parseCommandLine(moved.split(' ').slice(2), trainConfigSchema);
  assert.notEqual(parsed, 'help');
  assert.deepEqual(trainConfigSchema.parse(parsed), { ...config, runDir: 'models/runs/r' });
});

test('a run resumed with a new epoch count gets one command per part, and the card says how its schedule spread', () => {
  const config = trainConfigSchema.parse({ name: 'r', epochs: 130, randomErasing: 0.5 });
  const plan = [
    { fromEpoch: 0, epochs: 100 },
    { fromEpoch: 100, epochs: 130 },
  ];
  assert.equal(
    trainCommandOf(config, 'models/runs/r', plan),
    'pnpm train --name r --run-dir models/runs/r --epochs 100 --random-erasing 0.5\n' +
      'pnpm train --name r --run-dir models/runs/r --resume --epochs 130',
  );
  const cut = [
    { fromEpoch: 0, epochs: 100 },
    { fromEpoch: 60, epochs: 80 },
  ];
  assert.match(
    trainCommandOf(config, 'runs/r', cut),
    /\npnpm train --name r --resume --epochs 80 {3}# the previous command stopped after epoch 60$/,
  );
  assert.equal(
    epochPlanText(plan),
    ' The run was resumed with a new epoch count, so the schedule spread over 100 epochs, then from epoch 101 over 130 (a decay re-spread, not a restart from the peak).',
  );
  assert.equal(epochPlanText([{ fromEpoch: 0, epochs: 130 }]), '');
});
