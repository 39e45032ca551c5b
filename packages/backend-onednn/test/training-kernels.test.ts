// depthfold's own native kernels (batch norm in training mode, the ReLU gradient) against the same computation in
// tfjs ops on the cpu backend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs';
import { nativeCallCounts, OnednnKernel } from '../src/index.js';
import { skipUnlessOnednn } from './availability.js';

const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!;

/** Moves a tensor's values to the active backend. */
const copy = (t: tf.Tensor) => tf.tensor(t.dataSync(), t.shape);

for (const shape of [
  [1, 3, 3, 5],
  [4, 7, 9, 16],
  [3, 5, 4, 6],
] as [number, number, number, number][]) {
  test(`BatchNormTrain and its gradient on [${shape}] equal the tfjs formula`, { skip: skipUnlessOnednn }, async () => {
    await tf.setBackend('cpu');
    const c = shape[3];
    const x = tf.randomNormal(shape, 0.5, 2, 'float32', 1);
    const gamma = tf.randomNormal([c], 1, 0.3, 'float32', 2);
    const beta = tf.randomNormal([c], 0, 0.3, 'float32', 3);
    const dy = tf.randomNormal(shape, 0, 1, 'float32', 4);
    const eps = 1e-5;
    const m = tf.moments(x, [0, 1, 2]);
    const reference = tf.grads((a, g, b) => {
      const { mean, variance } = tf.moments(a, [0, 1, 2]);
      return tf.sum(tf.mul(tf.batchNorm(a, mean, variance, b as tf.Tensor1D, g as tf.Tensor1D, eps), dy));
    })([x, gamma, beta]);
    const want = {
      y: tf.batchNorm(x, m.mean, m.variance, beta, gamma, eps),
      mean: m.mean,
      variance: m.variance,
      grads: reference,
    };

    await tf.setBackend('onednn');
    const [X, G, B, DY] = [x, gamma, beta, dy].map(copy) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
    const [y, mean, variance] = tf
      .engine()
      .runKernel(OnednnKernel.BatchNormTrain, { x: X, gamma: G, beta: B }, { epsilon: eps }) as tf.Tensor[];
    const grads = tf
      .engine()
      .runKernel(
        OnednnKernel.BatchNormTrainGrad,
        { x: X, dy: DY, mean: mean!, variance: variance!, gamma: G },
        { epsilon: eps },
      ) as tf.Tensor[];
    const got = [y, mean, variance, ...grads].map((t) => t!.dataSync());
    await tf.setBackend('cpu');
    const back = (v: ArrayLike<number>, like: tf.Tensor) => tf.tensor(Float32Array.from(v), like.shape);
    assert.ok(maxDiff(back(got[0]!, want.y), want.y) < 1e-4, 'y');
    assert.ok(maxDiff(back(got[1]!, want.mean), want.mean) < 1e-5, 'mean');
    assert.ok(maxDiff(back(got[2]!, want.variance), want.variance) < 1e-4, 'variance (biased)');
    want.grads.forEach((g, i) =>
      assert.ok(maxDiff(back(got[3 + i]!, g), g) < 1e-4, `gradient ${['x', 'gamma', 'beta'][i]}`),
    );
  });
}

test("ReluGrad is dy where x > 0, else 0 (also at 0, as tfjs's step)", { skip: skipUnlessOnednn }, async () => {
  await tf.setBackend('onednn');
  const x = tf.tensor1d([-2, -0, 0, 1e-30, 3, -1e-30]);
  const dy = tf.tensor1d([1, 2, 3, 4, 5, 6]);
  const dx = tf.engine().runKernel(OnednnKernel.ReluGrad, { dy, x }) as tf.Tensor;
  assert.deepEqual(Array.from(dx.dataSync()), [0, 0, 0, 4, 5, 0]);
});

test('the training kernels name what they expected', { skip: skipUnlessOnednn }, async () => {
  await tf.setBackend('onednn');
  const x = tf.zeros([2, 3]);
  assert.throws(
    () =>
      tf
        .engine()
        .runKernel(OnednnKernel.BatchNormTrain, { x, gamma: tf.ones([3]), beta: tf.zeros([3]) }, { epsilon: 1e-5 }),
    /DepthfoldBatchNormTrain: x: expected a rank-4 NHWC tensor, received shape \[2, 3\]/,
  );
  const ints = tf.zeros([1, 2, 2, 3], 'int32');
  assert.throws(
    () =>
      tf
        .engine()
        .runKernel(
          OnednnKernel.BatchNormTrain,
          { x: ints, gamma: tf.ones([3]), beta: tf.zeros([3]) },
          { epsilon: 1e-5 },
        ),
    /x: expected a non-empty float32 tensor, received int32/,
  );
});

// Below MIN_NATIVE_SGD the step loops in JS, above it in C++ on every thread: both must round as tfjs does.
for (const size of [3 * 3 * 5 * 7, 3 * 3 * 64 * 64 + 5])
  test(`SgdNesterov is bit for bit the step that tfjs ops take, with and without momentum and decay (${size} values)`, {
    skip: skipUnlessOnednn,
  }, async () => {
    const [w0, g0, v0] = [1, 2, 3].map((seed) => tf.randomNormal([size], 0, 1, 'float32', seed).dataSync());
    const hp = { learningRate: 0.1, momentum: 0.9, weightDecay: 1e-4 };
    for (const withV of [false, true]) {
      for (const weightDecay of [0, hp.weightDecay]) {
        await tf.setBackend('cpu');
        const w = tf.tensor1d(w0!);
        const g = tf.tensor1d(g0!);
        const gd = weightDecay > 0 ? tf.add(g, tf.mul(w, weightDecay)) : g;
        const v = withV ? tf.add(tf.mul(tf.tensor1d(v0!), hp.momentum), gd) : tf.clone(gd);
        const want = [tf.sub(w, tf.mul(tf.add(gd, tf.mul(v, hp.momentum)), hp.learningRate)).dataSync(), v.dataSync()];
        await tf.setBackend('onednn');
        const inputs: tf.NamedTensorMap = {
          w: tf.tensor1d(w0!),
          g: tf.tensor1d(g0!),
          ...(withV ? { v: tf.tensor1d(v0!) } : {}),
        };
        const got = (
          tf.engine().runKernel(OnednnKernel.SgdNesterov, inputs, { ...hp, weightDecay }) as tf.Tensor[]
        ).map((t) => t.dataSync());
        assert.deepEqual(
          Array.from(got[0]!),
          Array.from(want[0]!),
          `w, momentum buffer ${withV}, decay ${weightDecay}`,
        );
        assert.deepEqual(
          Array.from(got[1]!),
          Array.from(want[1]!),
          `v, momentum buffer ${withV}, decay ${weightDecay}`,
        );
      }
    }
    assert.ok((nativeCallCounts().get(OnednnKernel.SgdNesterov) ?? 0) > 0);
  });
