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
  b.conv2dForward(GEOMETRY, f32(32), f32(54), f32(48)); // the valid call
  assert.throws(() => b.conv2dForward(GEOMETRY.slice(1), f32(32), f32(54), f32(48)), {
    name: 'TypeError',
    message: 'geometry: expected an array of 17 integers, received an array of 16 elements',
  });
  assert.throws(() => b.conv2dForward(GEOMETRY, f32(31), f32(54), f32(48)), {
    name: 'RangeError',
    message: 'x: expected a Float32Array of 32 elements, received Float32Array of 31 elements',
  });
  assert.throws(() => b.conv2dForward(GEOMETRY, new Float64Array(32) as unknown as Float32Array, f32(54), f32(48)), {
    name: 'TypeError',
    message: 'x: expected a Float32Array of 32 elements, received a typed array of another type of 32 elements',
  });
  assert.throws(
    () => b.conv2dForward(GEOMETRY, f32(32), f32(54), f32(47)),
    /^RangeError: y: expected a Float32Array of 48 elements/,
  );
  const badOut = [...GEOMETRY];
  badOut[4] = 5;
  assert.throws(() => b.conv2dForward(badOut, f32(32), f32(54), f32(60)), {
    message: 'geometry: output height: expected 4 for this input, filter, stride, dilation and padding, received 5',
  });
  const nan = [...GEOMETRY];
  nan[0] = Number.NaN;
  assert.throws(
    () => b.conv2dForward(nan, f32(32), f32(54), f32(48)),
    /geometry\[0\]: expected an integer in \[0, 16777216\], received NaN/,
  );
  const zero = [...GEOMETRY];
  zero[3] = 0;
  assert.throws(
    () => b.conv2dForward(zero, f32(0), f32(0), f32(48)),
    /geometry\[3\]: expected a positive size, received 0/,
  );
  const huge = [...GEOMETRY];
  huge[0] = 2 ** 24;
  huge[1] = 2 ** 24;
  assert.throws(
    () => b.conv2dForward(huge, f32(32), f32(54), f32(48)),
    /geometry: the input: expected at most 2147483648 elements/,
  );
  assert.throws(
    () => (b.conv2dForward as unknown as (...a: unknown[]) => void)(GEOMETRY, f32(32)),
    /conv2dForward: expected 4 arguments, received 2/,
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
