// The run directory's format: runPaths, the metrics line's one schema through its writer and reader (bytes kept,
// older lines and nulls read, bad lines named), and the recorded config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DepthfoldInputError,
  RUN_FILES,
  formatMetrics,
  parseMetrics,
  withoutTimings,
  type EpochMetrics,
} from '../src/index.js';
import { readMetrics, readRecordedConfig, runPaths, writeFileAtomic, writeMetrics } from '../src/node/index.js';

// In the trainer's order: a validation split's figures come after the test figures.
const line = (epoch: number, validation?: { validationLoss: number; validationError: number }): EpochMetrics => ({
  epoch,
  step: epoch * 10,
  learningRate: 0.1,
  trainLoss: 1.5,
  trainError: 0.5,
  testLoss: 1.2,
  testError: 0.4,
  testExamples: 100,
  ...validation,
  seconds: 3.5,
  imagesPerSecond: 91.4,
  dataWaitShare: 0.02,
  expectedDepth: 6.5,
  realisedDepth: 6.25,
  gradMagnitude: { stem: 1e-3, stage1: 2e-3 },
  backend: 'wasm',
  workers: 2,
  precision: 'fp32',
});

function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'depthfold-run-format-'));
  return body(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('runPaths names the files of RUN_FILES inside the directory', () => {
  assert.deepEqual(runPaths('runs/a'), {
    config: join('runs/a', RUN_FILES.config),
    metrics: join('runs/a', RUN_FILES.metrics),
    checkpoint: join('runs/a', RUN_FILES.checkpoint),
    dataset: join('runs/a', RUN_FILES.dataset),
    skippedImages: join('runs/a', RUN_FILES.skippedImages),
  });
});

test('writeMetrics then readMetrics gives the lines back, and reading and writing again keeps the bytes', async () => {
  await withDir(async (dir) => {
    const lines = [line(1), line(2, { validationLoss: 1.1, validationError: 0.3 }), line(3)];
    await writeMetrics(dir, lines);
    const bytes = readFileSync(runPaths(dir).metrics, 'utf8');
    assert.equal(bytes, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
    const read = await readMetrics(dir);
    assert.deepEqual(read, lines);
    assert.equal(formatMetrics(read), bytes, "the schema keeps the trainer's key order");
    assert.deepEqual(
      (await readMetrics(dir, 2)).map((l) => l.epoch),
      [1, 2],
      'lines after lastEpoch are left out',
    );
  });
});

test('a missing metrics file reads as no lines; a missing config as undefined', async () => {
  await withDir(async (dir) => {
    assert.deepEqual(await readMetrics(join(dir, 'none')), []);
    assert.equal(await readRecordedConfig(join(dir, 'none')), undefined);
  });
});

test('parseMetrics reads older lines (no gradMagnitude, workers, timings) and nulls, and a later line replaces an epoch', () => {
  const { gradMagnitude: _g, workers: _w, ...old } = withoutTimings(line(1));
  const text = [
    JSON.stringify(old),
    JSON.stringify({ ...line(2), trainLoss: null }),
    JSON.stringify({ ...line(1), testError: 0.9 }),
  ].join('\n');
  const lines = parseMetrics(text, 'm.jsonl');
  assert.deepEqual(
    lines.map((l) => [l.epoch, l.testError, l.trainLoss]),
    [
      [1, 0.9, 1.5],
      [2, 0.4, null],
    ],
  );
  assert.deepEqual(parseMetrics(JSON.stringify(old), 'm.jsonl'), [old]);
});

test('parseMetrics names the file and line of a line that is not JSON or not a metrics line', () => {
  assert.throws(
    () => parseMetrics(`${JSON.stringify(line(1))}\n{oops`, 'runs/a/metrics.jsonl'),
    /runs\/a\/metrics\.jsonl line 2 is not valid JSON/,
  );
  assert.throws(
    () => parseMetrics(JSON.stringify({ ...line(1), testError: 'low' }), 'runs/a/metrics.jsonl'),
    (error: unknown) =>
      error instanceof DepthfoldInputError &&
      /runs\/a\/metrics\.jsonl line 1/.test(error.message) &&
      /testError/.test(error.message),
  );
  assert.throws(() => parseMetrics(JSON.stringify({ step: 1 }), 'm'), /epoch/);
});

test('withoutTimings drops seconds, imagesPerSecond and dataWaitShare only', () => {
  const { seconds: _s, imagesPerSecond: _i, dataWaitShare: _d, ...rest } = line(4);
  assert.deepEqual(withoutTimings(line(4)), rest);
});

test('readRecordedConfig validates config.json against the train config schema and names the file', async () => {
  await withDir(async (dir) => {
    writeFileSync(runPaths(dir).config, JSON.stringify({ name: 'r', depth: 20 }));
    assert.equal((await readRecordedConfig(dir))?.depth, 20);
    writeFileSync(runPaths(dir).config, JSON.stringify({ depth: 0 }));
    await assert.rejects(readRecordedConfig(dir), /config\.json/);
    writeFileSync(runPaths(dir).config, '{');
    await assert.rejects(readRecordedConfig(dir), /is not valid JSON/);
  });
});

test('a full disk during an atomic write names the file and its directory, and leaves the previous file intact', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'checkpoint.safetensors');
    await writeFileAtomic(path, 'epoch 1');
    const full = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    await assert.rejects(
      writeFileAtomic(path, 'epoch 2', {
        onTempWritten() {
          throw full;
        },
      }),
      (error: Error) => {
        assert.match(
          error.message,
          new RegExp(`no space left on the device of ${dir} \\(ENOSPC\\) while writing ${path}`),
        );
        assert.match(error.message, /the previous checkpoint\.safetensors there is intact/);
        return true;
      },
    );
    assert.equal(readFileSync(path, 'utf8'), 'epoch 1');
    assert.deepEqual(readdirSync(dir), ['checkpoint.safetensors'], 'the temporary file is gone');
  });
});
