// Data-parallel training: worker replicas with synchronised batch norm and summed gradients take the same
// steps as one process, up to float rounding.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  createRng,
  type NamedTensor,
  residualLayers,
  resolveArchitecture,
  survivalProbs,
  topologyOf,
} from '@depthfold/core';
import { drawGates, initialTensors, LocalEngine, selectBackend, WorkerEngine, type TrainEngine } from '../src/index.js';

const topology = topologyOf(
  resolveArchitecture(
    { arch: 'resnet8', overrides: { shortcut: 'projection' } },
    { height: 10, width: 10, channels: 1 },
    4,
  ),
);
const probs = survivalProbs('linear', residualLayers(topology).length, 0.5);

before(async () => {
  await selectBackend('wasm');
});

function batch(seed: number, count: number) {
  const rng = createRng(seed);
  return {
    pixels: Float32Array.from({ length: count * 100 }, () => rng.next() * 2 - 1),
    labels: Int32Array.from({ length: count }, () => Math.floor(rng.next() * 4)),
    count,
  };
}

async function run(
  engine: TrainEngine,
  steps: number,
): Promise<{
  losses: number[];
  params: Map<string, NamedTensor>;
  momentum: Map<string, NamedTensor>;
  eval: { lossSum: number; correct: number };
}> {
  const gateRng = createRng(3);
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    const gates = s === 0 ? probs.map(() => true) : drawGates(probs, gateRng);
    losses.push(
      (await engine.step(batch(100 + s, 7), { gates, learningRate: 0.05, momentum: 0.9, weightDecay: 1e-4 })).loss,
    );
  }
  const evaluation = await engine.evaluate(batch(999, 9), probs);
  const state = await engine.state();
  await engine.dispose();
  return { losses, ...state, eval: evaluation };
}

function maxRelDiff(a: Map<string, NamedTensor>, b: Map<string, NamedTensor>): number {
  let worst = 0;
  for (const [name, t] of a) {
    const u = b.get(name)!;
    const scale = Math.max(1e-3, ...Array.from(t.data, Math.abs));
    for (let i = 0; i < t.data.length; i++) worst = Math.max(worst, Math.abs(t.data[i]! - u.data[i]!) / scale);
  }
  return worst;
}

test('2 and 3 worker threads (uneven shards) take the same steps as one process', { timeout: 120_000 }, async () => {
  const init = () => ({
    topology,
    params: initialTensors(topology, createRng(11)),
    momentum: new Map<string, NamedTensor>(),
  });
  const solo = await run(new LocalEngine(init()), 4);
  for (const workers of [2, 3]) {
    const pool = await WorkerEngine.start(init(), workers, 'wasm', 1);
    assert.equal(pool.workers, workers);
    const parallel = await run(pool, 4);
    for (let s = 0; s < 4; s++)
      assert.ok(
        Math.abs(parallel.losses[s]! - solo.losses[s]!) < 1e-4,
        `step ${s}: ${parallel.losses[s]} vs ${solo.losses[s]}`,
      );
    assert.ok(
      maxRelDiff(solo.params, parallel.params) < 1e-4,
      `weights differ by ${maxRelDiff(solo.params, parallel.params)}`,
    );
    assert.ok(maxRelDiff(solo.momentum, parallel.momentum) < 1e-4);
    assert.ok(Math.abs(parallel.eval.lossSum - solo.eval.lossSum) < 1e-3);
    assert.equal(parallel.eval.correct, solo.eval.correct);
  }
});

test('a failing worker rejects the step instead of hanging', { timeout: 60_000 }, async () => {
  const pool = await WorkerEngine.start(
    { topology, params: initialTensors(topology, createRng(1)), momentum: new Map() },
    2,
    'wasm',
    1,
  );
  await assert.rejects(
    pool.step(batch(1, 4), { gates: [true], learningRate: 0.1, momentum: 0.9, weightDecay: 0 }),
    /training worker: forward: expected 3 gates/,
  );
  await pool.dispose();
});

test('the fast path (wasm kernels, 2 workers) follows the reference path (cpu backend, stock gradients) on a seeded run', {
  timeout: 120_000,
}, async () => {
  const init = () => ({
    topology,
    params: initialTensors(topology, createRng(21)),
    momentum: new Map<string, NamedTensor>(),
  });
  await selectBackend('cpu');
  const reference = await run(new LocalEngine(init()), 4);
  await selectBackend('wasm');
  const fast = await run(await WorkerEngine.start(init(), 2, 'wasm', 1), 4);
  for (let s = 0; s < 4; s++)
    assert.ok(
      Math.abs(fast.losses[s]! - reference.losses[s]!) < 1e-4,
      `step ${s}: ${fast.losses[s]} vs ${reference.losses[s]}`,
    );
  assert.ok(
    maxRelDiff(reference.params, fast.params) < 1e-3,
    `weights differ by ${maxRelDiff(reference.params, fast.params)}`,
  );
});
