// The PyTorch reference of `pnpm bench:train` (tools/torch_reference.py --bench) reports its own peak memory. It is
// spawned by the bench, a Node process that may hold gigabytes by then, and Linux carries getrusage's ru_maxrss across
// fork and exec: a reference that read it reported the bench's resident set at the fork, not its own (ResNet-20 in
// autocast "needed" 2761 MB, the bench's size after ResNet-50). The test spawns it from a process holding 1 GiB.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test, type TestContext } from 'node:test';
import { requirement } from '@depthfold/testing';

const PYTHON = '/usr/bin/python3';

test('the PyTorch bench reports its own peak RSS, not that of the process that spawned it', (t: TestContext) => {
  const torch = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
  if (!requirement(t, torch, `no ${PYTHON} with torch: install Debian's python3-torch`)) return;
  const held = Buffer.alloc(1 << 30, 1); // resident: every page written
  const r = spawnSync(
    PYTHON,
    ['tools/torch_reference.py', '--bench', '--depth', '8', '--batch-size', '8', '--warmup', '0', '--steps', '1'],
    { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } },
  );
  assert.equal(r.status, 0, r.stderr);
  const { peak_rss_mb: peak } = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { peak_rss_mb: number };
  t.diagnostic(
    `ResNet-8 step in PyTorch: peak RSS ${peak.toFixed(0)} MB, spawned by a process of ${held.length >> 20}+ MiB`,
  );
  // torch itself takes a few hundred MB; the parent's gigabyte must not show.
  assert.ok(peak > 50 && peak < 800, `peak RSS ${peak} MB: expected the reference's own, 50-800 MB`);
  assert.equal(held[held.length - 1], 1);
});
