// Resuming: a bare --resume continues the run as recorded; only length and compute settings may change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseWith, trainConfigSchema, type TrainConfigInput } from '@depthfold/core';
import { resumedConfig } from '../src/index.js';

const recorded = parseWith(
  trainConfigSchema,
  { name: 'r', epochs: 30, survivalRule: 'none', validation: 5000, resume: false },
  'config',
);

function resume(given: TrainConfigInput, epochsDone = 9) {
  return resumedConfig(recorded, parseWith(trainConfigSchema, given, 'config'), given, epochsDone);
}

test('a bare --resume keeps every recorded setting, the number of epochs included', () => {
  assert.deepEqual(resume({ name: 'r', resume: true }), { ...recorded, resume: true });
});

test('epochs, backend, workers and data may change on resume', () => {
  const config = resume({ name: 'r', resume: true, epochs: 40, backend: 'wasm', workers: 1, data: '/elsewhere' });
  assert.deepEqual(
    [config.epochs, config.backend, config.workers, config.data, config.survivalRule, config.validation],
    [40, 'wasm', 1, '/elsewhere', 'none', 5000],
  );
});

test('a setting that would make a different run is refused, naming it with both values', () => {
  assert.throws(
    () => resume({ name: 'r', resume: true, survivalRule: 'linear' }),
    /survivalRule: expected the run's recorded "none" .*received "linear"/,
  );
  // Giving a setting equal to the record is harmless.
  assert.equal(resume({ name: 'r', resume: true, survivalRule: 'none', seed: 1 }).epochs, 30);
});

test('fewer epochs than the run has trained is refused', () => {
  assert.throws(
    () => resume({ name: 'r', resume: true, epochs: 1 }),
    /epochs: expected at least the 9 the run has trained, received 1/,
  );
  assert.equal(resume({ name: 'r', resume: true, epochs: 9 }).epochs, 9);
});
