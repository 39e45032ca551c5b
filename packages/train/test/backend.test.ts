import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { onednnAvailability } from '@depthfold/backend-onednn';
import { gpuDetail, selectBackend } from '../src/backend.js';

test('auto picks the first backend that starts and records why the ones before it did not', async () => {
  const choice = await selectBackend('auto');
  assert.equal(tf.getBackend(), choice.name);
  const order = ['tensorflow-gpu', 'tensorflow', 'onednn', 'wasm'];
  assert.deepEqual(
    choice.failures.map((f) => f.split(':')[0]),
    order.slice(0, order.indexOf(choice.option)),
  );
  for (const failure of choice.failures) assert.match(failure, /^[a-z-]+: .{10,}/);
  // Where the addon built (always in CI), auto trains on onednn unless TensorFlow's native bindings installed.
  if (onednnAvailability().available && !choice.option.startsWith('tensorflow')) {
    assert.equal(choice.option, 'onednn');
    assert.match(choice.detail ?? '', /^oneDNN \d+\.\d+\.\d+, \w+, \d+ threads?, (fp32|bf16)$/);
  }
});

test('tensorflow-gpu says when TensorFlow sees no GPU, so a CPU run is not called a GPU run', () => {
  assert.match(gpuDetail({ binding: { isUsingGpuDevice: () => false } }), /sees no GPU .* runs on the CPU/);
  assert.equal(gpuDetail({ binding: { isUsingGpuDevice: () => true } }), 'TensorFlow uses a GPU');
  assert.match(gpuDetail({}), /cannot tell/);
});

test('an explicit backend that cannot start fails with the reason; an unknown one lists the allowed', async () => {
  const auto = await selectBackend('auto');
  if (auto.option !== 'tensorflow-gpu') {
    await assert.rejects(selectBackend('tensorflow-gpu'), /none of tensorflow-gpu could start:\n {2}tensorflow-gpu: /);
  }
  await assert.rejects(
    selectBackend('gpu' as 'auto'),
    /backend: expected one of auto, tensorflow-gpu, tensorflow, onednn, wasm, cpu, received "gpu"/,
  );
  assert.equal((await selectBackend('cpu')).name, 'cpu');
});
