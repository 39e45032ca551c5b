// The resume policy on its own: which run a session opens, with which settings, without training a step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DepthfoldInputError, parseWith, trainConfigSchema } from '@depthfold/core';
import { openRun, runDirOf } from '../src/open-run.js';

const dir = mkdtempSync(join(tmpdir(), 'depthfold-open-run-'));

/** A run directory holding only a config.json of `settings`, as a run killed before its first checkpoint leaves. */
function runStoppedBeforeCheckpoint(name: string, settings: Record<string, unknown>): string {
  const runDir = join(dir, name);
  mkdirSync(runDir);
  const config = parseWith(trainConfigSchema, { ...settings, runDir }, 'config');
  writeFileSync(join(runDir, 'config.json'), JSON.stringify(config));
  return runDir;
}

test('a new run trains the given settings from scratch, under runs/<name> unless --run-dir says otherwise', async () => {
  const runDir = join(dir, 'new');
  const opened = await openRun({ runDir, depth: 14, seed: 3 });
  assert.deepEqual(opened.config, parseWith(trainConfigSchema, { runDir, depth: 14, seed: 3 }, 'config'));
  assert.equal(opened.runDir, runDir);
  assert.equal(opened.paths.checkpoint, join(runDir, 'checkpoint.safetensors'));
  assert.equal(opened.resumed, undefined);
  assert.equal(runDirOf(parseWith(trainConfigSchema, { name: 'x' }, 'config')), join('runs', 'x'));
});

test('a run directory with a checkpoint is not overwritten without --resume', async () => {
  const runDir = join(dir, 'has-checkpoint');
  mkdirSync(runDir);
  writeFileSync(join(runDir, 'checkpoint.safetensors'), '');
  await assert.rejects(openRun({ runDir }), /checkpoint\.safetensors exists; pass --resume to continue that run/);
});

test('--resume before the first checkpoint continues with the recorded config.json, given changes applied', async () => {
  const runDir = runStoppedBeforeCheckpoint('stopped', { depth: 8, epochs: 3, seed: 5 });
  const opened = await openRun({ runDir, resume: true, epochs: 4 });
  assert.equal(opened.resumed, undefined);
  assert.deepEqual(
    opened.config,
    parseWith(trainConfigSchema, { depth: 8, epochs: 4, seed: 5, runDir, resume: true }, 'config'),
  );
});

test('--resume refuses a setting that would make another run, naming it', async () => {
  const runDir = runStoppedBeforeCheckpoint('refused', { depth: 8 });
  await assert.rejects(openRun({ runDir, resume: true, depth: 20 }), (error: unknown) => {
    assert.ok(error instanceof DepthfoldInputError, String(error));
    assert.match(error.message, /depth: expected the run's recorded 8 .*received 20/);
    return true;
  });
});

test('--resume with no run to continue is refused on the resume field', async () => {
  await assert.rejects(openRun({ runDir: join(dir, 'absent'), resume: true }), (error: unknown) => {
    assert.ok(error instanceof DepthfoldInputError, String(error));
    assert.match(error.message, /^train: resume: expected a run to continue, but .*absent has no checkpoint/);
    return true;
  });
});
