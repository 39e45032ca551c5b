// The addon's argument checks: whatever reaches a native entry point, a bad value is a JS error naming the
// argument, the expected and the received value, never a crash or a write out of bounds. And native memory does
// not grow over many steps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs';
import { loadBinding, type OnednnBinding } from '../src/native.js';
import { skipUnlessOnednn } from './availability.js';

function binding(): OnednnBinding {
  const loaded = loadBinding();
  if (!('binding' in loaded)) throw new Error(loaded.reason);
  return loaded.binding;
}

// n h w ci oh ow co kh kw sh sw dh dw pt pl pb pr: a 3x3 conv, pad 1, of [1, 4, 4, 2] into 3 channels.
const GEOMETRY = [1, 4, 4, 2, 4, 4, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1];
const f32 = (n: number) => new Float32Array(n);

test('conv2dForward checks its geometry and buffers', { skip: skipUnlessOnednn }, () => {
  const b = binding();
  b.conv2dForward(GEOMETRY, f32(32), f32(54), f32(48), 0); // the valid call
  assert.throws(() => b.conv2dForward(GEOMETRY.slice(1), f32(32), f32(54), f32(48), 0), {
    name: 'TypeError',
    message: 'geometry: expected an array of 17 integers, received an array of 16 elements',
  });
  assert.throws(() => b.conv2dForward(GEOMETRY, f32(31), f32(54), f32(48), 0), {
    name: 'RangeError',
    message: 'x: expected a Float32Array of 32 elements, received Float32Array of 31 elements',
  });
  assert.throws(() => b.conv2dForward(GEOMETRY, new Float64Array(32) as unknown as Float32Array, f32(54), f32(48), 0), {
    name: 'TypeError',
    message: 'x: expected a Float32Array of 32 elements, received a typed array of another type of 32 elements',
  });
  assert.throws(
    () => b.conv2dForward(GEOMETRY, f32(32), f32(54), f32(47), 0),
    /^RangeError: y: expected a Float32Array of 48 elements/,
  );
  const badOut = [...GEOMETRY];
  badOut[4] = 5;
  assert.throws(() => b.conv2dForward(badOut, f32(32), f32(54), f32(60), 0), {
    message: 'geometry: output height: expected 4 for this input, filter, stride, dilation and padding, received 5',
  });
  const nan = [...GEOMETRY];
  nan[0] = Number.NaN;
  assert.throws(
    () => b.conv2dForward(nan, f32(32), f32(54), f32(48), 0),
    /geometry\[0\]: expected an integer in \[0, 16777216\], received NaN/,
  );
  const zero = [...GEOMETRY];
  zero[3] = 0;
  assert.throws(
    () => b.conv2dForward(zero, f32(0), f32(0), f32(48), 0),
    /geometry\[3\]: expected a positive size, received 0/,
  );
  const huge = [...GEOMETRY];
  huge[0] = 2 ** 24;
  huge[1] = 2 ** 24;
  assert.throws(
    () => b.conv2dForward(huge, f32(32), f32(54), f32(48), 0),
    /geometry: the input: expected at most 2147483648 elements/,
  );
  assert.throws(
    () => (b.conv2dForward as unknown as (...a: unknown[]) => void)(GEOMETRY, f32(32)),
    /conv2dForward: expected 5 arguments, received 2/,
  );
});

test('the other entry points check shapes, broadcasting, blocks and epsilon', { skip: skipUnlessOnednn }, () => {
  const b = binding();
  assert.throws(
    () => b.batchNormForward([1, 2, 2, 3], 0, f32(12), f32(3), f32(3), f32(12), f32(3), f32(3)),
    /epsilon: expected a positive number, received 0/,
  );
  assert.throws(
    () => b.batchNormForward([1, 2, 2, 3], 1e-5, f32(12), f32(2), f32(3), f32(12), f32(3), f32(3)),
    /gamma: expected a Float32Array of 3 elements/,
  );
  assert.throws(
    () => b.batchNormInference([1, 2, 2, 3], 1e-5, f32(12), f32(3), f32(3), f32(12), f32(3), f32(4)),
    /variance: expected a Float32Array of 3 elements/,
  );
  assert.throws(
    () => b.binary(2, [1, 1, 2, 3], [1, 1, 3, 3], f32(6), f32(9), f32(6)),
    /bShape\[2\]: expected 1 or 2, received 3/,
  );
  assert.throws(
    () => b.binary(7, [1, 1, 2, 3], [1, 1, 2, 3], f32(6), f32(6), f32(6)),
    /op: expected an integer in \[0, 3\], received 7/,
  );
  assert.throws(
    () => b.pad([1, 1, 2, 3], [0, 0, 0, 2], [1, 1, 2, 4], f32(6), f32(8)),
    /pad on axis 3: expected offset \+ size <= 4, received 5/,
  );
  assert.throws(
    () => b.slice([1, 1, 2, 3], [0, 0, 1, 0], [1, 1, 2, 3], f32(6), f32(6)),
    /slice on axis 2: expected offset \+ size <= 2, received 3/,
  );
  assert.throws(
    () => b.reduce(0, [1, 2, 3, 4], [1, 2, 2, 4], f32(24), f32(16)),
    /dstShape\[2\]: expected 1 or 3, received 2/,
  );
  assert.throws(
    () => b.relu(f32(4), f32(5)),
    /y: expected a Float32Array of 4 elements, received Float32Array of 5 elements/,
  );
  assert.throws(() => b.relu(f32(0), f32(0)), /x: expected 1 to 2147483648 elements, received 0/);
  assert.throws(() => b.setThreads(0), /threads: expected an integer in \[1, 1024\], received 0/);
});

test('the precision argument of the convolutions and matMul is checked, and the one that ran is returned', {
  skip: skipUnlessOnednn,
}, () => {
  const b = binding();
  assert.equal(b.conv2dForward(GEOMETRY, f32(32), f32(54), f32(48), 0), 0);
  assert.throws(() => b.conv2dForward(GEOMETRY, f32(32), f32(54), f32(48), 2 as 0), {
    name: 'RangeError',
    message: 'precision: expected an integer in [0, 1], received 2',
  });
  assert.throws(
    () => b.conv2dBackwardData(GEOMETRY, f32(48), f32(54), f32(32), '1' as unknown as 0),
    /^TypeError: precision: expected a number, received a string/,
  );
  assert.throws(() => b.conv2dBackwardWeights(GEOMETRY, f32(32), f32(48), f32(54), -1 as 0), /precision: expected/);
  assert.equal(b.matMul([1, 2, 3, 4], false, false, f32(6), f32(12), f32(8), 0), 0);
  assert.throws(
    () => b.matMul([1, 2, 3, 4], false, false, f32(6), f32(12), f32(8), 0.5 as 0),
    /precision: expected an integer in \[0, 1\], received 0.5/,
  );
  assert.throws(
    () => (b.matMul as unknown as (...a: unknown[]) => void)([1, 2, 3, 4], false, false, f32(6), f32(12), f32(8)),
    /matMul: expected 7 arguments, received 6/,
  );
});

test('the max pool entry points check their geometry, padding and buffers', { skip: skipUnlessOnednn }, () => {
  const b = binding();
  // n h w c oh ow kh kw sh sw pt pl pb pr: 3x3/2, pad 1, of [2, 5, 5, 3].
  const pool = [2, 5, 5, 3, 3, 3, 3, 3, 2, 2, 1, 1, 1, 1];
  b.maxPoolForward(pool, f32(150), f32(54));
  b.maxPoolBackward(pool, f32(150), f32(54), f32(150));
  assert.throws(() => b.maxPoolForward(pool.slice(0, 13), f32(150), f32(54)), {
    name: 'TypeError',
    message: 'geometry: expected an array of 14 integers, received an array of 13 elements',
  });
  assert.throws(() => b.maxPoolForward(pool, f32(150), f32(53)), {
    name: 'RangeError',
    message: 'y: expected a Float32Array of 54 elements, received Float32Array of 53 elements',
  });
  assert.throws(
    () => b.maxPoolBackward(pool, f32(150), f32(54), f32(149)),
    /^RangeError: dx: expected a Float32Array of 150 elements, received Float32Array of 149 elements/,
  );
  assert.throws(
    () => b.maxPoolBackward(pool, f32(150), f32(50), f32(150)),
    /^RangeError: dy: expected a Float32Array of 54 elements/,
  );
  const wide = [2, 5, 5, 3, 3, 4, 3, 3, 2, 2, 1, 3, 1, 1];
  assert.throws(() => b.maxPoolForward(wide, f32(150), f32(72)), {
    name: 'RangeError',
    message: "geometry[11]: expected a padding below the window's 3, received 3",
  });
  const tall = [...pool];
  tall[4] = 4;
  assert.throws(() => b.maxPoolForward(tall, f32(150), f32(72)), {
    message: 'geometry: output height: expected 3 for this input, window, stride and padding, received 4',
  });
  assert.throws(
    () => (b.maxPoolBackward as unknown as (...a: unknown[]) => void)(pool, f32(150), f32(54)),
    /maxPoolBackward: expected 4 arguments, received 3/,
  );
});

test('native memory and tensors stay flat over 1,000 training steps', { skip: skipUnlessOnednn }, async () => {
  await tf.setBackend('onednn');
  const x = tf.randomNormal([8, 10, 10, 8]);
  const filter = tf.variable(tf.randomNormal([3, 3, 8, 8], 0, 0.1));
  const step = () =>
    tf
      .tidy(() => {
        const { value, grads } = tf.variableGrads(() => {
          const y = tf.relu(tf.add(tf.conv2d(x as tf.Tensor4D, filter as tf.Tensor4D, 1, 'same'), x));
          return tf.mean(tf.square(tf.sub(tf.mean(y, [1, 2]), 0.5))) as tf.Scalar;
        });
        filter.assign(tf.sub(filter, tf.mul(grads.filter ?? Object.values(grads)[0]!, 0.01)));
        return value;
      })
      .dispose();
  for (let i = 0; i < 200; i++) step();
  global.gc?.();
  const tensors = tf.memory().numTensors;
  const rss = process.memoryUsage().rss;
  for (let i = 0; i < 1000; i++) step();
  global.gc?.();
  assert.equal(tf.memory().numTensors, tensors, 'tensors leaked');
  const grownMb = (process.memoryUsage().rss - rss) / 2 ** 20;
  assert.ok(grownMb < 32, `RSS grew by ${grownMb.toFixed(1)} MB over 1,000 steps`);
});
