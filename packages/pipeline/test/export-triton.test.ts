// `pnpm export --triton DIR`: the verified model and its Triton repository, which passes onnx's Triton config check
// (python3-protobuf against Triton's field numbers); `--unfolded` with `--triton` is refused.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { saveCheckpoint } from '@depthfold/core/node';
// The workspace's seeded random checkpoints (@depthfold/testing) and onnx's Triton checker (a test file of onnx).
import { CASES, randomCheckpoint } from '@depthfold/testing';

const PYTHON = '/usr/bin/python3';
const CHECKER = fileURLToPath(new URL('../../onnx/test/triton-config-check.py', import.meta.url));
const EXPORT_CLI = fileURLToPath(new URL('../src/cli/export.ts', import.meta.url));

function checkDir(dir: string): { status: number | null; output: string } {
  const r = spawnSync(PYTHON, [CHECKER, dir], { encoding: 'utf8' });
  if (r.error)
    assert.fail(`${PYTHON} did not run (${r.error.message}); install python3-onnx (it brings python3-protobuf)`);
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

function withTempDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'depthfold-export-triton-'));
  return body(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('pnpm export --triton DIR writes the verified model and its repository', { timeout: 120_000 }, async () => {
  await withTempDir(async (dir) => {
    const checkpointPath = join(dir, 'checkpoint.safetensors');
    await saveCheckpoint(checkpointPath, randomCheckpoint(CASES[0]!));
    const out = join(dir, 'tiny-fashion.onnx');
    const repo = join(dir, 'triton');
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', EXPORT_CLI, '--checkpoint', checkpointPath, '--out', out, '--triton', repo, '--probe', '8'],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /triton: .*tiny-fashion \(1\/model\.onnx, config\.pbtxt, labels\.txt/);
    assert.deepEqual(readFileSync(join(repo, 'tiny-fashion', '1', 'model.onnx')), readFileSync(out));
    const check = checkDir(join(repo, 'tiny-fashion'));
    assert.equal(check.status, 0, check.output);
    const unfolded = spawnSync(
      process.execPath,
      ['--import', 'tsx', EXPORT_CLI, '--checkpoint', checkpointPath, '--out', out, '--triton', repo, '--unfolded'],
      { encoding: 'utf8' },
    );
    assert.equal(unfolded.status, 1);
    assert.match(unfolded.stderr, /--triton exports the folded model/);
  });
});
