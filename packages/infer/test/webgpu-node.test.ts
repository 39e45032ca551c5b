// onnxruntime-node's bundled WebGPU provider on a CPU-only machine: Dawn over SwiftShader, the Vulkan driver that
// Debian's chromium ships, gives the logits of the CPU provider within 1e-4 on a batch of 2 (slow: shaders compile
// on the CPU). Vulkan is chosen by the environment when ORT starts, so the run is a child process. Without chromium
// it fails in CI (CI=true) and skips, loudly, elsewhere.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { requirement } from '@depthfold/testing';

const CHROMIUM_LIB = '/usr/lib/chromium';
const SWIFTSHADER_ICD = join(CHROMIUM_LIB, 'vk_swiftshader_icd.json');
const child = join(dirname(fileURLToPath(import.meta.url)), 'webgpu-child.ts');

interface ChildResult {
  gpu: { device: string; provider: string; logits: number[][] };
  cpu: { device: string; logits: number[][] };
  seconds: number;
}

test('webgpu on SwiftShader gives the logits of cpu within 1e-4', { timeout: 180_000 }, (t) => {
  if (
    !requirement(
      t,
      existsSync(SWIFTSHADER_ICD),
      `no ${SWIFTSHADER_ICD}: install Debian's chromium (tools/setup.sh does) to test the WebGPU provider`,
    )
  )
    return;
  const run = spawnSync(process.execPath, ['--import', 'tsx', child], {
    encoding: 'utf8',
    timeout: 170_000,
    env: {
      ...process.env,
      VK_ICD_FILENAMES: SWIFTSHADER_ICD,
      // chromium's copy of the Vulkan loader, for machines without Debian's libvulkan1.
      LD_LIBRARY_PATH: [CHROMIUM_LIB, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
    },
  });
  assert.equal(run.status, 0, `child failed (${run.signal ?? run.status}):\n${run.stderr}`);
  const result = JSON.parse(run.stdout) as ChildResult;
  assert.deepEqual([result.gpu.device, result.gpu.provider, result.cpu.device], ['webgpu', 'webgpu', 'cpu']);
  assert.equal(result.gpu.logits.length, 2);
  let largest = 0;
  result.gpu.logits.forEach((row, i) =>
    row.forEach((v, j) => (largest = Math.max(largest, Math.abs(v - result.cpu.logits[i]![j]!)))),
  );
  t.diagnostic(
    `max |logit difference| ${largest.toExponential(2)}, webgpu batch of 2 in ${result.seconds.toFixed(1)} s`,
  );
  assert.ok(largest < 1e-4, `max |logit difference| ${largest}`);
});
