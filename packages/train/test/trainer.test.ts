// The training loop: seeded runs reproduce, an interrupted run resumes to the same weights, no tensor leaks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { parseWith, trainConfigSchema, type TrainConfig } from '@depthfold/core';
import { loadCheckpoint } from '@depthfold/core/node';
import { splitTrainingSet, train } from '../src/index.js';

const base = { depth: 8, trainLimit: 256, testLimit: 100, batchSize: 64, backend: 'wasm', seed: 7 } as const;
const dir = mkdtempSync(join(tmpdir(), 'depthfold-trainer-'));

async function weights(runDir: string): Promise<Map<string, Float32Array>> {
  const c = await loadCheckpoint(join(runDir, 'checkpoint.safetensors'));
  return new Map(
    [...c.params, ...[...c.momentum].map(([k, v]) => [`momentum/${k}`, v] as const)].map(([k, v]) => [k, v.data]),
  );
}

test('a run interrupted after its first epoch resumes to exactly the weights of an uninterrupted run', {
  timeout: 300_000,
}, async () => {
  const straight = await train({ ...base, epochs: 2, runDir: join(dir, 'straight') });
  const interrupted = train(
    { ...base, epochs: 2, runDir: join(dir, 'resumed') },
    {
      onEpoch(m) {
        if (m.epoch === 1) throw new Error('interrupted');
      },
    },
  );
  await assert.rejects(interrupted, /interrupted/);
  // A bare resume: the run's recorded settings (2 epochs) carry on without being given again.
  const resumed = await train({ runDir: join(dir, 'resumed'), resume: true, backend: 'wasm' });
  assert.deepEqual(
    resumed.metrics.map((m) => m.epoch),
    [1, 2],
  );
  assert.equal(resumed.metrics[1]!.trainLoss, straight.metrics[1]!.trainLoss);
  assert.deepEqual(await weights(resumed.runDir), await weights(straight.runDir));
  const plan = async (runDir: string) => (await loadCheckpoint(join(runDir, 'checkpoint.safetensors'))).info.epochPlan;
  assert.deepEqual(await plan(resumed.runDir), [{ fromEpoch: 0, epochs: 2 }]);
  assert.deepEqual(await plan(resumed.runDir), await plan(straight.runDir));
});

test('a run resumed with more epochs records the epoch from which its schedule spread over the new count', {
  timeout: 300_000,
}, async () => {
  const runDir = join(dir, 'longer');
  await train({ ...base, epochs: 1, runDir });
  const longer = await train({ runDir, resume: true, epochs: 2, backend: 'wasm' });
  const { info } = await loadCheckpoint(join(runDir, 'checkpoint.safetensors'));
  assert.deepEqual(info.epochPlan, [
    { fromEpoch: 0, epochs: 1 },
    { fromEpoch: 1, epochs: 2 },
  ]);
  // The second epoch's learning rate is the 2-epoch cosine's, not a continuation of the 1-epoch one (which ended at 0).
  assert.ok((longer.metrics[1]?.learningRate ?? 0) > 0);
});

test('a run stopped before its first checkpoint resumes with the settings it recorded, not the defaults', {
  timeout: 300_000,
}, async () => {
  const runDir = join(dir, 'stopped-early');
  const stopAtStart = (seen: TrainConfig[]) => ({
    onStart({ config }: { config: TrainConfig }) {
      seen.push(config);
      throw new Error('stopped');
    },
  });
  await assert.rejects(train({ ...base, epochs: 2, runDir }, stopAtStart([])), /stopped/);
  const seen: TrainConfig[] = [];
  await assert.rejects(train({ runDir, resume: true }, stopAtStart(seen)), /stopped/);
  assert.deepEqual(seen[0], parseWith(trainConfigSchema, { ...base, epochs: 2, runDir, resume: true }, 'config'));
});

test('--resume of a run that does not exist is refused rather than started with the defaults', async () => {
  // Were it started, the hook would end it at once with a message the pattern does not take.
  const started = {
    onStart: () => {
      throw new Error('started a default run');
    },
  };
  await assert.rejects(
    train({ runDir: join(dir, 'never-started'), resume: true }, started),
    /resume: expected a run to continue, but .*never-started has no checkpoint and no config.json/,
  );
});

test('a seeded run reproduces bit for bit', { timeout: 300_000 }, async () => {
  const first = await train({ ...base, epochs: 1, runDir: join(dir, 'seeded-a') });
  const second = await train({ ...base, epochs: 1, runDir: join(dir, 'seeded-b') });
  assert.equal(first.metrics[0]!.trainLoss, second.metrics[0]!.trainLoss);
  assert.deepEqual(await weights(first.runDir), await weights(second.runDir));
  const other = await train({ ...base, seed: 8, epochs: 1, runDir: join(dir, 'seeded-c') });
  assert.notEqual(other.metrics[0]!.trainLoss, first.metrics[0]!.trainLoss);
});

test('no tensor outlives a run', { timeout: 300_000 }, async () => {
  await train({ ...base, epochs: 1, runDir: join(dir, 'warm') });
  const before = tf.memory().numTensors;
  await train({ ...base, epochs: 2, runDir: join(dir, 'leak') });
  assert.equal(tf.memory().numTensors, before);
});

test('a validation split is held out of training by a seeded choice and evaluated every epoch', {
  timeout: 300_000,
}, async () => {
  const a = splitTrainingSet(1000, 100, 300, 3);
  const b = splitTrainingSet(1000, 100, 300, 3);
  assert.deepEqual(a, b);
  assert.equal(a.validation.length, 100);
  assert.equal(a.train.length, 300);
  const held = new Set(a.validation);
  assert.ok(
    [...a.train].every((i) => !held.has(i)),
    'no validation image is trained on',
  );
  assert.notDeepEqual(splitTrainingSet(1000, 100, 300, 4).validation, a.validation);
  assert.throws(() => splitTrainingSet(10, 10, undefined, 1), /validation 10 leaves none of the 10 training images/);
  const run = await train({ ...base, epochs: 1, validation: 128, runDir: join(dir, 'validation') });
  const m = run.metrics[0]!;
  assert.ok(typeof m.validationError === 'number' && m.validationError >= 0 && m.validationError <= 1);
  assert.ok(typeof m.validationLoss === 'number' && Number.isFinite(m.validationLoss));
});

test('random erasing changes training, and a run with it resumes to the uninterrupted weights', {
  timeout: 300_000,
}, async () => {
  const erasing = { ...base, epochs: 2, randomErasing: 0.5 };
  const plain = await train({ ...base, epochs: 1, runDir: join(dir, 'erasing-off') });
  const straight = await train({ ...erasing, runDir: join(dir, 'erasing-straight') });
  assert.notEqual(straight.metrics[0]!.trainLoss, plain.metrics[0]!.trainLoss, 'erasing reached the training batches');
  const interrupted = train(
    { ...erasing, runDir: join(dir, 'erasing-resumed') },
    {
      onEpoch(m) {
        if (m.epoch === 1) throw new Error('interrupted');
      },
    },
  );
  await assert.rejects(interrupted, /interrupted/);
  const resumed = await train({ runDir: join(dir, 'erasing-resumed'), resume: true });
  assert.equal(resumed.metrics[1]!.trainLoss, straight.metrics[1]!.trainLoss);
  assert.deepEqual(await weights(resumed.runDir), await weights(straight.runDir));
});
