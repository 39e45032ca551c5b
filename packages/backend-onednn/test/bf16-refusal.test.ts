// Where oneDNN has no bf16 dot products, bf16 is refused with the reason and fp32 still runs. Simulated by capping
// oneDNN's instruction set with ONEDNN_MAX_CPU_ISA, which oneDNN reads once at startup: so in a child process. Capped
// at avx2, oneDNN 2.6 has no bf16 convolution or matmul at all, which also tests the per-shape fallback: the child
// forces bf16 past the refusal, and every call must run in fp32 and be counted as such.
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { skipUnlessOnednn } from './availability.js';

/** What the child reports (see CHILD). */
interface Report {
  isa: string;
  support: { supported: boolean; isa: string; reason?: string };
  set: string;
  register: string;
  precision: string;
  fp32Error: number;
  calls: Record<string, number>;
  forcedError?: number;
  bf16Calls?: Record<string, { bf16: number; fp32: number }>;
}

// A conv (and its gradients) and a matmul on cpu and on onednn; then, with --force, on onednn with bf16 forced.
const CHILD = `
  import * as tf from '@tensorflow/tfjs-core';
  import '@tensorflow/tfjs';
  import { bf16CallCounts, nativeCallCounts, onednnBf16Support, onednnInfo, registerOnednnBackend,
    resetNativeCallCounts, setOnednnPrecision } from './src/index.ts';
  import { forcePrecisionForTests } from './src/precision.ts';
  const report = { isa: registerOnednnBackend({ threads: 1 }).isa, support: onednnBf16Support() };
  const attempt = (f) => { try { f(); return 'accepted'; } catch (e) { return e.message; } };
  report.set = attempt(() => setOnednnPrecision('bf16'));
  report.register = attempt(() => registerOnednnBackend({ threads: 1, precision: 'bf16' }));
  report.precision = onednnInfo().precision;
  const seeded = (shape, seed) => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b) },
    (_, i) => Math.sin(seed * 12.9898 + i * 78.233)), shape);
  const run = async (backend) => {
    await tf.setBackend(backend);
    return tf.tidy(() => {
      const [x, f, a, b] = [seeded([2, 9, 9, 5], 1), seeded([3, 3, 5, 7], 2), seeded([6, 5], 3), seeded([5, 4], 4)];
      const conv = (p, q) => tf.conv2d(p, q, 2, 'same');
      const grads = tf.grads((p, q) => tf.sum(tf.mul(conv(p, q), conv(p, q))))([x, f]);
      return [conv(x, f), ...grads, tf.matMul(a, b)].flatMap((t) => Array.from(t.dataSync()));
    });
  };
  const relative = (got, want) => Math.max(...want.map((w, i) => Math.abs(got[i] - w))) /
    Math.max(...want.map(Math.abs));
  const cpu = await run('cpu');
  resetNativeCallCounts();
  report.fp32Error = relative(await run('onednn'), cpu);
  report.calls = Object.fromEntries(nativeCallCounts());
  if (process.argv.includes('--force')) {
    forcePrecisionForTests('bf16');
    resetNativeCallCounts();
    report.forcedError = relative(await run('onednn'), cpu);
    report.bf16Calls = Object.fromEntries(bf16CallCounts());
  }
  console.log(JSON.stringify(report));
`;

function runCapped(cap: string, force: boolean): Report {
  const child = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', CHILD, '--', ...(force ? ['--force'] : [])],
    {
      cwd: new URL('..', import.meta.url),
      env: { ...process.env, ONEDNN_MAX_CPU_ISA: cap, OMP_NUM_THREADS: '1' },
      encoding: 'utf8',
    },
  );
  assert.equal(child.status, 0, `the child exited with ${child.status ?? child.signal}: ${child.stderr.slice(-600)}`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as Report;
}

for (const cap of ['AVX512_CORE', 'AVX2']) {
  test(`with ONEDNN_MAX_CPU_ISA=${cap}, bf16 is refused with the reason, and fp32 runs`, {
    skip: skipUnlessOnednn,
    timeout: 60_000,
  }, () => {
    const report = runCapped(cap, cap === 'AVX2');
    assert.ok(!['avx512_core_bf16', 'avx512_core_amx'].includes(report.isa), `the cap did not hold: ${report.isa}`);
    if (cap === 'AVX2') assert.match(report.isa, /^(avx2|avx|sse41)$/);
    const reason =
      `oneDNN runs ${report.isa} here under ONEDNN_MAX_CPU_ISA=${cap}, which has no bf16 dot products ` +
      '(AVX512-BF16 or AMX-BF16: needs avx512_core_bf16 or avx512_core_amx)';
    assert.deepEqual(report.support, { supported: false, isa: report.isa, reason });
    assert.equal(report.set, `onednn: bf16 is not available: ${reason}`);
    assert.equal(report.register, `onednn: bf16 is not available: ${reason}`);
    assert.equal(report.precision, 'fp32');
    assert.ok(report.fp32Error < 1e-4, `fp32 on onednn: relative error ${report.fp32Error}`);
    for (const kernel of ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter', 'BatchMatMul'])
      assert.ok((report.calls[kernel] ?? 0) > 0, `no native ${kernel} call`);
    if (cap === 'AVX2') {
      // bf16 forced: oneDNN has no bf16 implementation at avx2, so each call ran (exactly) in fp32, and says so.
      assert.ok(report.forcedError! < 1e-4, `forced bf16: relative error ${report.forcedError}`);
      assert.deepEqual(report.bf16Calls, {
        Conv2D: { bf16: 0, fp32: report.calls.Conv2D },
        Conv2DBackpropInput: { bf16: 0, fp32: report.calls.Conv2DBackpropInput },
        Conv2DBackpropFilter: { bf16: 0, fp32: report.calls.Conv2DBackpropFilter },
        BatchMatMul: { bf16: 0, fp32: report.calls.BatchMatMul },
      });
    }
  });
}
