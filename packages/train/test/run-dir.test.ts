// Run directories under kill -9: a kill at every write boundary resumes to the uninterrupted run (metrics, weights
// and checkpoint bytes), stale temp files are removed (only the run's own), equal runs write equal checkpoints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseWith, trainConfigSchema, withoutTimings } from '@depthfold/core';
import { loadCheckpoint, readMetrics, runPaths } from '@depthfold/core/node';
import { train, type WriteBoundary } from '../src/index.js';

// One worker thread and a tiny net: the kills cost a process start and an epoch or two each.
const base = {
  depth: 8,
  trainLimit: 128,
  testLimit: 64,
  batchSize: 32,
  evalBatchSize: 64,
  backend: 'wasm',
  workers: 1,
  seed: 11,
  epochs: 2,
} as const;
const dir = mkdtempSync(join(tmpdir(), 'depthfold-run-dir-'));
const killedChild = fileURLToPath(new URL('fixtures/train-killed.ts', import.meta.url));

/** What a run directory holds that a resume must reproduce: metrics less timings, tensors, checkpoint digest, files. */
async function contents(runDir: string) {
  const checkpoint = await loadCheckpoint(runPaths(runDir).checkpoint);
  return {
    metrics: (await readMetrics(runDir)).map(withoutTimings),
    tensors: new Map(
      [...checkpoint.params, ...[...checkpoint.momentum].map(([k, v]) => [`momentum/${k}`, v] as const)].map(
        ([k, v]) => [k, v.data],
      ),
    ),
    sha256: checkpoint.sha256,
    files: readdirSync(runDir).sort(),
  };
}

/** How a resumed run directory differs from the uninterrupted one, in words (none: the same). */
function differences(
  resumed: Awaited<ReturnType<typeof contents>>,
  expected: Awaited<ReturnType<typeof contents>>,
): string[] {
  const found: string[] = [];
  try {
    assert.deepEqual(resumed.metrics, expected.metrics);
  } catch {
    found.push(
      `metrics.jsonl has epochs [${resumed.metrics.map((m) => m.epoch).join(', ')}] (or other values) where the uninterrupted run has [${expected.metrics.map((m) => m.epoch).join(', ')}]`,
    );
  }
  try {
    assert.deepEqual(resumed.tensors, expected.tensors);
  } catch {
    found.push('weights or momentum differ');
  }
  if (resumed.sha256 !== expected.sha256) found.push('checkpoint SHA-256 differs');
  if (resumed.files.join() !== expected.files.join()) found.push(`files ${resumed.files.join(' ')}`);
  return found;
}

/**
 * Runs `config` in a child process that SIGKILLs itself at `at`. Fails unless the kill happened, or with `optional`
 * returns whether it did.
 */
function trainKilledAt(config: object, at: Pick<WriteBoundary, 'file' | 'stage' | 'epoch'>, optional = false): boolean {
  const child = spawnSync(
    process.execPath,
    ['--import', 'tsx', killedChild, JSON.stringify(config), `${at.file}:${at.stage}:${at.epoch}`],
    {
      encoding: 'utf8',
    },
  );
  if (optional && child.status === 0) return false;
  assert.equal(
    child.signal,
    'SIGKILL',
    `the run was to be killed at ${JSON.stringify(at)}; it exited ${child.status}: ${child.stderr}`,
  );
  return true;
}

// Every write of a 2-epoch run, in order: config.json at the start, then per epoch the checkpoint (which commits
// the epoch) and metrics.jsonl; each has two boundaries, its temp file complete and its rename done.
const BOUNDARIES: Pick<WriteBoundary, 'file' | 'stage' | 'epoch'>[] = [
  { file: 'config', stage: 'temp-written', epoch: 0 },
  { file: 'config', stage: 'renamed', epoch: 0 },
  ...[1, 2].flatMap((epoch) =>
    (['checkpoint', 'metrics'] as const).flatMap((file) =>
      (['temp-written', 'renamed'] as const).map((stage) => ({ file, stage, epoch })),
    ),
  ),
];

test('a run killed at any write boundary resumes to the metrics, weights and checkpoint bytes of an uninterrupted run', {
  timeout: 900_000,
}, async (t) => {
  const straight = join(dir, 'straight');
  await train({ ...base, runDir: straight });
  const expected = await contents(straight);
  assert.deepEqual(
    expected.metrics.map((m) => m.epoch),
    [1, 2],
  );
  const failures: string[] = [];
  for (const at of BOUNDARIES) {
    const runDir = join(dir, `killed-${at.file}-${at.stage}-${at.epoch}`);
    trainKilledAt({ ...base, runDir }, at);
    const left = readdirSync(runDir);
    // Before config.json exists nothing was recorded, and the run is started again rather than resumed.
    await train(left.includes('config.json') ? { runDir, resume: true } : { ...base, runDir });
    t.diagnostic(`killed at ${at.file} ${at.stage} (epoch ${at.epoch}), left ${left.join(' ')}`);
    for (const d of differences(await contents(runDir), expected))
      failures.push(`killed at ${at.file} ${at.stage} of epoch ${at.epoch}: ${d}`);
  }
  // A resume killed in its own first writes (config.json, and metrics.jsonl rewritten to match the checkpoint),
  // after a kill that lost a metrics line: the next resume still gets everything back.
  for (const file of ['config', 'metrics'] as const) {
    for (const stage of ['temp-written', 'renamed'] as const) {
      const runDir = join(dir, `killed-twice-${file}-${stage}`);
      trainKilledAt({ ...base, runDir }, { file: 'checkpoint', stage: 'renamed', epoch: 1 });
      const where = `killed at checkpoint renamed of epoch 1, then in its resume at ${file} ${stage}`;
      if (!trainKilledAt({ runDir, resume: true }, { file, stage, epoch: 1 }, true))
        failures.push(`${where}: the resume never wrote ${file} before training`);
      await train({ runDir, resume: true });
      for (const d of differences(await contents(runDir), expected)) failures.push(`${where}: ${d}`);
    }
  }
  assert.deepEqual(failures, []);
});

test('two identical runs in different directories write byte-identical checkpoints', { timeout: 300_000 }, async () => {
  const [a, b] = [join(dir, 'same-a'), join(dir, 'elsewhere', 'same-b')];
  await train({ ...base, epochs: 1, runDir: a });
  await train({ ...base, epochs: 1, runDir: b });
  const [ca, cb] = [await loadCheckpoint(runPaths(a).checkpoint), await loadCheckpoint(runPaths(b).checkpoint)];
  assert.equal(ca.sha256, cb.sha256);
  // The record holds the run's settings but not where it lives nor how the session started; timings are in metrics.
  assert.equal(ca.info.config.runDir, undefined);
  assert.equal(ca.info.config.resume, false);
  assert.equal(ca.info.metrics.seconds, undefined);
  assert.ok((await readMetrics(a))[0]!.seconds! > 0, 'metrics.jsonl keeps the timings');
});

test('resume removes the stale temp files of its own run directory, and only those', { timeout: 300_000 }, async () => {
  const runDir = join(dir, 'stale');
  mkdirSync(join(runDir, 'sub'), { recursive: true });
  writeFileSync(runPaths(runDir).config, JSON.stringify(parseWith(trainConfigSchema, { ...base, runDir }, 'config')));
  // A pid that no longer runs: a child that has exited.
  const dead = spawnSync(process.execPath, ['-e', '']).pid!;
  const stale = [
    `checkpoint.safetensors.tmp-${dead}-abc123`,
    `metrics.jsonl.tmp-${dead}-z9`,
    `config.json.tmp-${dead}-0k`,
  ];
  const kept = [
    `checkpoint.safetensors.tmp-${process.pid}-live1`, // a writer that still runs
    `notes.txt.tmp-${dead}-abc123`, // not a file of the run
    `checkpoint.safetensors.tmp-${dead}`, // not writeFileAtomic's name
    'checkpoint.safetensors.bak',
    'README',
  ];
  for (const name of [...stale, ...kept]) writeFileSync(join(runDir, name), 'x');
  writeFileSync(join(runDir, 'sub', `checkpoint.safetensors.tmp-${dead}-abc123`), 'x');
  const stop = {
    onStart: () => {
      throw new Error('stopped after the clean-up');
    },
  };
  await assert.rejects(train({ runDir, resume: true }, stop), /stopped after the clean-up/);
  assert.deepEqual(readdirSync(runDir).sort(), ['config.json', ...kept, 'sub'].sort());
  assert.deepEqual(readdirSync(join(runDir, 'sub')), [`checkpoint.safetensors.tmp-${dead}-abc123`]);
});
