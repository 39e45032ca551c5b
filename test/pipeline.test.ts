// End to end on real data, through the CLIs a user runs: train a small ResNet with stochastic depth on a
// Fashion-MNIST subset, export it, check the ONNX model with the official checker, and classify test images with
// @depthfold/infer (onnxruntime-node) exactly as the trained tfjs network does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResNetSpec } from '@depthfold/core';
import { loadCheckpoint } from '@depthfold/core/node';
import { load } from '@depthfold/infer';
import { checkpointLogits, fillBatch, loadDataset, selectBackend } from '@depthfold/train';

const work = mkdtempSync(join(tmpdir(), 'depthfold-e2e-'));
const runDir = join(work, 'run');
const modelPath = join(work, 'e2e.onnx');
const TEST_IMAGES = 1000;

function cli(script: string, args: string[]): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [script, ...args], { encoding: 'utf8', timeout: 600_000 });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}
const train = (args: string[]) => cli('packages/train/dist/cli/train.js', args);
const exportModel = (args: string[]) => cli('packages/onnx/dist/cli/export.js', args);

function argmax(row: ArrayLike<number>, offset: number, n: number): number {
  let best = 0;
  for (let k = 1; k < n; k++) if (row[offset + k]! > row[offset + best]!) best = k;
  return best;
}

test('pnpm train -> pnpm export -> onnx checker -> @depthfold/infer', { timeout: 900_000 }, async (t) => {
  await t.test('train ResNet-8 with linear stochastic depth on 3072 Fashion-MNIST images', () => {
    const r = train(['--name', 'e2e', '--run-dir', runDir, '--depth', '8', '--train-limit', '3072', '--test-limit', String(TEST_IMAGES), '--epochs', '2', '--batch-size', '64']);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /backend: wasm/);
    assert.match(r.out, /checkpoint: .*checkpoint\.safetensors/);
    const metrics = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(metrics.length, 2);
    assert.ok(metrics[1].realisedDepth < 3 && metrics[1].expectedDepth === 2, 'blocks were dropped');
  });

  await t.test('an existing run is never overwritten; --resume continues it', () => {
    const refused = train(['--name', 'e2e', '--run-dir', runDir, '--depth', '8', '--train-limit', '3072', '--epochs', '3']);
    assert.notEqual(refused.status, 0);
    assert.match(refused.out, /exists; pass --resume/);
    const r = train(['--run-dir', runDir, '--resume', '--epochs', '3', '--test-limit', String(TEST_IMAGES)]);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /resumed after epoch 2/);
    const metrics = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(metrics.map((m) => m.epoch), [1, 2, 3]);
  });

  await t.test('export folds, verifies against tfjs and writes the model', () => {
    const r = exportModel(['--run', runDir, '--out', modelPath]);
    assert.equal(r.status, 0, r.out);
    const diff = Number(/max \|logit difference\| (\S+)/.exec(r.out)?.[1]);
    assert.ok(diff < 1e-4, r.out);
    assert.match(r.out, /top-1 agreement 64\/64/);
  });

  await t.test('the official ONNX checker accepts the model (full_check)', () => {
    execFileSync('/usr/bin/python3', ['-c', 'import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)', modelPath]);
  });

  await t.test('onnxruntime predictions equal the trained network on Fashion-MNIST test images; accuracy is far above chance', async () => {
    const data = await loadDataset('fashion-mnist');
    const checkpoint = await loadCheckpoint(join(runDir, 'checkpoint.safetensors'));
    const { height, width, channels } = data;
    const size = height * width * channels;
    const indices = Array.from({ length: TEST_IMAGES }, (_, i) => i);
    const pixels = new Float32Array(TEST_IMAGES * size);
    fillBatch(data.test, indices, pixels, checkpoint.info.normalization);
    await selectBackend('wasm');
    const reference = await checkpointLogits(checkpoint.info.architecture as ResNetSpec, checkpoint.params, checkpoint.info.schedule.survivalProbs, pixels);

    const classifier = await load(modelPath, { device: 'cpu' });
    assert.equal(classifier.info.provider, 'cpu');
    const images = indices.map((i) => data.test.images.subarray(i * size, (i + 1) * size));
    const results = await classifier.classify(images, { topK: 1 });
    await classifier.dispose();
    let agree = 0;
    let correct = 0;
    results.forEach((r, i) => {
      const ours = r.top[0]!.index;
      if (ours === argmax(reference, i * 10, 10)) agree++;
      if (ours === data.test.labels[i]) correct++;
    });
    assert.equal(agree, TEST_IMAGES, 'every top-1 prediction of ONNX Runtime equals the tfjs one');
    const accuracy = correct / TEST_IMAGES;
    t.diagnostic(`test accuracy ${(100 * accuracy).toFixed(1)}% on ${TEST_IMAGES} images`);
    assert.ok(accuracy > 0.5, `accuracy ${accuracy} should be far above chance (0.1)`);
  });

  rmSync(work, { recursive: true, force: true });
});
