import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { batchNormTrain } from '../src/kernels/batch-norm.js';
import { TEST_BACKENDS } from './backends.js';

before(async () => {
  await tf.setBackend('cpu');
});

async function maxDiff(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  return (await tf.max(tf.abs(tf.sub(a, b))).data())[0]!;
}

for (const backend of TEST_BACKENDS) {
  test(`training batch norm and its gradients equal tfjs's batchNorm over moments (${backend})`, async () => {
    await tf.setBackend(backend);
    const x = tf.randomNormal([3, 5, 4, 6], 0.5, 2, 'float32', 1) as tf.Tensor4D;
    const gamma = tf.randomNormal([6], 1, 0.3, 'float32', 2) as tf.Tensor1D;
    const beta = tf.randomNormal([6], 0, 0.3, 'float32', 3) as tf.Tensor1D;
    const dy = tf.randomNormal([3, 5, 4, 6], 0, 1, 'float32', 4);
    const ours = tf.grads((a, g, b) => {
      const r = batchNormTrain(a as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5);
      tf.dispose([r.mean, r.variance]);
      return tf.sum(tf.mul(r.y, dy));
    });
    const reference = tf.grads((a, g, b) => {
      const { mean, variance } = tf.moments(a, [0, 1, 2]);
      return tf.sum(tf.mul(tf.batchNorm(a, mean, variance, b as tf.Tensor1D, g as tf.Tensor1D, 1e-5), dy));
    });
    const got = ours([x, gamma, beta]);
    const want = reference([x, gamma, beta]);
    for (let i = 0; i < 3; i++) assert.ok((await maxDiff(got[i]!, want[i]!)) < 1e-4, `gradient ${i}`);
    const r = batchNormTrain(x, gamma, beta, 1e-5);
    const m = tf.moments(x, [0, 1, 2]);
    assert.ok((await maxDiff(r.y, tf.batchNorm(x, m.mean, m.variance, beta, gamma, 1e-5))) < 1e-5);
    assert.ok((await maxDiff(r.mean, m.mean)) < 1e-6);
    assert.ok((await maxDiff(r.variance, m.variance)) < 1e-5);
  });
}
