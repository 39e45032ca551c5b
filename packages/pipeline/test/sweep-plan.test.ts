// Sweep planning without training: the grid, the command line, and skip / resume / start decided from fake run dirs.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseWith, trainConfigSchema } from '@depthfold/core';
import {
  configDifferences,
  expandGrid,
  parseSweepCommandLine,
  planSweep,
  sweepDir,
  type SweepSpec,
} from '../src/index.js';
import { tempDir } from './fixtures.js';

const work = tempDir('plan');
after(() => rmSync(work, { recursive: true, force: true }));

test('expandGrid: every rule x p_L, with p_L = 1 trained once as constant depth, first', () => {
  const points = expandGrid({
    rules: ['linear', 'uniform'],
    depths: [20],
    survivalProbs: [0.2, 0.4, 0.5, 0.6, 0.8, 1],
  });
  assert.deepEqual(
    points.map((p) => p.id),
    [
      'none-d20-p1',
      'linear-d20-p0.2',
      'linear-d20-p0.4',
      'linear-d20-p0.5',
      'linear-d20-p0.6',
      'linear-d20-p0.8',
      'uniform-d20-p0.2',
      'uniform-d20-p0.4',
      'uniform-d20-p0.5',
      'uniform-d20-p0.6',
      'uniform-d20-p0.8',
    ],
  );
  assert.deepEqual(points[0], { id: 'none-d20-p1', rule: 'none', depth: 20, survivalProb: 1 });
  assert.deepEqual(points[3], { id: 'linear-d20-p0.5', rule: 'linear', depth: 20, survivalProb: 0.5 });
});

test('expandGrid: depths, duplicates, constant depth only where asked, and bad grids', () => {
  const two = expandGrid({ rules: ['linear'], depths: [8, 14, 8], survivalProbs: [0.5, 0.5] });
  assert.deepEqual(
    two.map((p) => p.id),
    ['linear-d8-p0.5', 'linear-d14-p0.5'],
  );
  assert.deepEqual(
    expandGrid({ rules: ['none'], depths: [8], survivalProbs: [] }).map((p) => p.id),
    ['none-d8-p1'],
  );
  assert.deepEqual(
    expandGrid({ rules: ['uniform', 'none'], depths: [8], survivalProbs: [0.5] }).map((p) => p.id),
    ['none-d8-p1', 'uniform-d8-p0.5'],
  );
  assert.throws(
    () => expandGrid({ rules: ['linear'], depths: [8], survivalProbs: [0] }),
    /p_L: expected numbers in \(0, 1\], received 0/,
  );
  assert.throws(() => expandGrid({ rules: [], depths: [8], survivalProbs: [0.5] }), /no survival rules/);
  assert.throws(() => expandGrid({ rules: ['linear'], depths: [8], survivalProbs: [] }), /no p_L values/);
});

test('sweep command line: train options pass through, lists are parsed, the default name follows the budget', () => {
  const options = parseSweepCommandLine([
    '--epochs',
    '3',
    '--rules',
    'linear',
    '--survival-probs',
    '0.5, 1',
    '--train-limit',
    '256',
    '--no-flip',
  ]);
  assert.notEqual(options, 'help');
  if (options === 'help') return;
  assert.equal(options.name, 'fashion-mnist-d20-e3');
  assert.equal(options.root, 'runs');
  assert.deepEqual(options.grid, { rules: ['linear'], depths: [20], survivalProbs: [0.5, 1] });
  assert.equal(options.train.trainLimit, 256);
  assert.equal(options.train.epochs, 3);
  assert.equal(options.train.flip, false);
  assert.equal('depth' in options.train, false, "the depth is the grid's");
  assert.equal(sweepDir(options), join('runs', 'sweep-fashion-mnist-d20-e3'));

  const named = parseSweepCommandLine([
    '--name',
    'big',
    '--depths',
    '20,56',
    '--runs',
    '/tmp/x',
    '--out',
    'r',
    '--title',
    'T',
  ]);
  assert.ok(named !== 'help');
  assert.equal(named.name, 'big');
  assert.deepEqual(named.grid.depths, [20, 56]);
  assert.deepEqual(named.grid.rules, ['linear', 'uniform']);
  assert.deepEqual(named.grid.survivalProbs, [0.2, 0.4, 0.5, 0.6, 0.8, 1]);
  assert.equal(named.out, 'r');

  assert.equal(parseSweepCommandLine(['--help']), 'help');
  assert.throws(
    () => parseSweepCommandLine(['--rules', 'linear,sideways']),
    /--rules: expected linear or uniform or none separated by commas, received "linear,sideways"/,
  );
  assert.throws(
    () => parseSweepCommandLine(['--survival-probs', '0.5,1.5']),
    /--survival-probs: expected numbers in \(0, 1\]/,
  );
  assert.throws(() => parseSweepCommandLine(['--depths', '20,x']), /--depths/);
  assert.throws(() => parseSweepCommandLine(['--survival-prob', '0.5']), /survival-prob/, 'the sweep sets p_L itself');
  assert.throws(() => parseSweepCommandLine(['--name', 'a/b']), /name/);
});

/** Writes what a run directory holds after `epochsDone` epochs (a fake checkpoint: planning only looks for it). */
function fakeRun(dir: string, config: object, epochsDone: number, checkpoint: boolean): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  const lines = Array.from({ length: epochsDone }, (_, i) => JSON.stringify({ epoch: i + 1, testError: 0.5 }));
  writeFileSync(join(dir, 'metrics.jsonl'), lines.map((l) => `${l}\n`).join(''));
  if (checkpoint) writeFileSync(join(dir, 'checkpoint.safetensors'), 'not read by the planner');
}

test('planSweep: finished runs are skipped, partial ones resumed, the rest started', async () => {
  const spec: SweepSpec = {
    name: 'plan',
    root: join(work, 'a'),
    grid: { rules: ['linear'], depths: [8], survivalProbs: [0.2, 0.5, 0.8, 1] },
    train: { epochs: 3, trainLimit: 256, seed: 7 },
  };
  const fresh = await planSweep(spec);
  assert.deepEqual(
    fresh.map((r) => [r.id, r.action]),
    [
      ['none-d8-p1', 'start'],
      ['linear-d8-p0.2', 'start'],
      ['linear-d8-p0.5', 'start'],
      ['linear-d8-p0.8', 'start'],
    ],
  );
  const [constant, p02, p05, p08] = fresh;
  assert.equal(constant!.runDir, join(spec.root!, 'sweep-plan', 'none-d8-p1'));
  assert.deepEqual(
    [
      constant!.config.depth,
      constant!.config.survivalRule,
      constant!.config.survivalProb,
      constant!.config.epochs,
      constant!.config.seed,
      constant!.config.trainLimit,
    ],
    [8, 'none', 1, 3, 7, 256],
  );
  assert.equal(p05!.config.name, 'plan-linear-d8-p0.5');
  assert.equal(p05!.config.runDir, p05!.runDir);

  // The trainer writes the resolved config; a resumed run's config says resume: true and may run on another backend.
  fakeRun(constant!.runDir, constant!.config, 3, true);
  fakeRun(p02!.runDir, { ...p02!.config, resume: true, backend: 'wasm', workers: 2 }, 1, true);
  fakeRun(p05!.runDir, p05!.config, 2, false);
  const plan = await planSweep(spec);
  assert.deepEqual(
    plan.map((r) => [r.id, r.action, r.epochsDone, r.config.resume]),
    [
      ['none-d8-p1', 'skip', 3, false],
      ['linear-d8-p0.2', 'resume', 1, true],
      ['linear-d8-p0.5', 'start', 2, false],
      ['linear-d8-p0.8', 'start', 0, false],
    ],
  );
  assert.equal(p08!.epochsDone, 0);

  // A finished run is finished even without its checkpoint (the report needs only config.json and metrics.jsonl).
  fakeRun(p08!.runDir, p08!.config, 3, false);
  assert.equal((await planSweep(spec))[3]!.action, 'skip');
});

test('planSweep: a run trained with other settings stops the sweep with the differences named', async () => {
  const spec: SweepSpec = {
    name: 'other',
    root: join(work, 'b'),
    grid: { rules: ['uniform'], depths: [8], survivalProbs: [0.5] },
    train: { epochs: 2 },
  };
  const [run] = await planSweep(spec);
  fakeRun(run!.runDir, { ...run!.config, seed: 2, trainLimit: 512 }, 1, true);
  await assert.rejects(planSweep(spec), (error: Error) => {
    assert.match(
      error.message,
      /uniform-d8-p0\.5 was trained with other settings \(trainLimit: 512 -> unset, seed: 2 -> 1\)/,
    );
    assert.match(error.message, /choose another --name/);
    return true;
  });
  // A longer budget is another sweep too: a cosine schedule over 2 epochs is not the first half of one over 4.
  fakeRun(run!.runDir, run!.config, 2, true);
  await assert.rejects(planSweep({ ...spec, train: { epochs: 4 } }), /epochs: 2 -> 4/);
  // A directory with a config but no epoch and no checkpoint holds nothing to keep: it is started again.
  fakeRun(run!.runDir, { ...run!.config, seed: 2 }, 0, false);
  assert.equal((await planSweep(spec))[0]!.action, 'start');
});

test('configDifferences: a field an older trainer did not write was at its default; unknown fields are ignored', () => {
  const asked = parseWith(trainConfigSchema, { depth: 8, trainLimit: 256 }, 'test');
  const { warmupEpochs: _omitted, ...older } = asked;
  assert.deepEqual(configDifferences({ ...older, someFutureField: 3 }, asked), []);
  assert.deepEqual(
    configDifferences(
      { ...asked, name: 'x', runDir: 'y', backend: 'cpu', workers: 4, evalBatchSize: 100, data: '/d' },
      asked,
    ),
    [],
  );
  assert.deepEqual(configDifferences({ ...asked, trainLimit: undefined }, asked), ['trainLimit: unset -> 256']);
  assert.deepEqual(configDifferences({ ...asked, learningRate: 0.05 }, asked), ['learningRate: 0.05 -> 0.1']);
});
