// Every native kernel against the cpu backend: one test body per case runs on both backends, forward and through
// tf.grads, on awkward shapes (batch 1, odd sizes, channels that are not a multiple of 8, strides 1 and 2, 1x1
// and 3x3 filters). Each case also checks that the onednn run called the native kernels it is about.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs'; // registers tfjs's gradient functions
import { nativeCallCounts, resetNativeCallCounts } from '../src/index.js';
import { skipUnlessOnednn } from './availability.js';

/** Seeded uniform values in [-1, 1). */
function values(size: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: size }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

function randomTensor(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(values(tf.util.sizeFromShape(shape), seed), shape);
}

/** max |got - want| / max |want|. */
function relativeError(got: Float32Array, want: Float32Array): number {
  let diff = 0;
  let scale = 1e-12;
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs(got[i]! - want[i]!));
    scale = Math.max(scale, Math.abs(want[i]!));
  }
  return diff / scale;
}

/** Runs `body` on cpu and onednn; its outputs must agree to 1e-4 and onednn must have run `natives`. */
async function onBothBackends(body: () => tf.Tensor[], natives: string[]): Promise<void> {
  const results: Float32Array[][] = [];
  for (const backend of ['cpu', 'onednn']) {
    await tf.setBackend(backend);
    resetNativeCallCounts();
    const outputs = tf.tidy(body);
    results.push(await Promise.all(outputs.map(async (t) => (await t.data()) as Float32Array)));
    tf.dispose(outputs);
  }
  const counts = nativeCallCounts();
  for (const kernel of natives)
    assert.ok((counts.get(kernel) ?? 0) > 0, `onednn ran no native ${kernel} (ran: ${[...counts.keys()].join(', ')})`);
  const [want, got] = results as [Float32Array[], Float32Array[]];
  assert.equal(got.length, want.length);
  want.forEach((w, i) => {
    assert.equal(got[i]!.length, w.length, `output ${i}: length`);
    const err = relativeError(got[i]!, w);
    assert.ok(err < 1e-4, `output ${i}: relative error ${err.toExponential(2)}`);
  });
}

/** The value of `f` and its gradients, through a random weighting so that dy is not uniform. */
function withGrads(f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[], seed: number): tf.Tensor[] {
  const y = f(...inputs);
  const weights = randomTensor(y.shape, seed);
  const grads = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(f(...xs), weights)))(inputs);
  return [y, ...grads];
}

const CONV = ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'];
const convCases: Array<{
  x: [number, number, number, number];
  k: number;
  cout: number;
  stride: 1 | 2;
  pad: 'same' | 'valid' | number;
}> = [
  { x: [1, 5, 5, 3], k: 3, cout: 7, stride: 1, pad: 'same' },
  { x: [2, 9, 9, 5], k: 3, cout: 3, stride: 2, pad: 'same' },
  { x: [3, 7, 7, 16], k: 1, cout: 16, stride: 1, pad: 'valid' },
  { x: [2, 8, 8, 12], k: 1, cout: 20, stride: 2, pad: 'valid' },
  { x: [1, 13, 11, 1], k: 3, cout: 16, stride: 1, pad: 1 },
  { x: [2, 11, 7, 9], k: 3, cout: 5, stride: 2, pad: 0 },
  { x: [2, 6, 6, 17], k: 3, cout: 33, stride: 1, pad: 'same' },
  { x: [4, 14, 14, 32], k: 3, cout: 64, stride: 2, pad: 1 },
  // ResNet-50's stem (7x7/2, pad 3, at 64 px and at an odd size) and its strided 1x1 projections, which take
  // oneDNN's NHWC 1x1 kernels (64 and more input channels: clear of uxlfoundation/oneDNN#6035, see native/conv.cc).
  { x: [1, 64, 64, 3], k: 7, cout: 64, stride: 2, pad: 3 },
  { x: [2, 33, 33, 3], k: 7, cout: 64, stride: 2, pad: 3 },
  { x: [2, 16, 16, 64], k: 1, cout: 128, stride: 2, pad: 'valid' },
  { x: [1, 8, 8, 256], k: 1, cout: 512, stride: 2, pad: 'valid' },
  { x: [2, 9, 9, 16], k: 1, cout: 24, stride: 2, pad: 'valid' },
];
for (const c of convCases) {
  test(`Conv2D ${c.k}x${c.k}/s${c.stride} pad ${c.pad} x=[${c.x}] cout=${c.cout}, and its gradients`, {
    skip: skipUnlessOnednn,
  }, async () => {
    await onBothBackends(() => {
      const x = randomTensor(c.x, 1);
      const filter = randomTensor([c.k, c.k, c.x[3], c.cout], 2);
      return withGrads((a, f) => tf.conv2d(a as tf.Tensor4D, f as tf.Tensor4D, c.stride, c.pad), [x, filter], 3);
    }, CONV);
  });
}

for (const shape of [
  [1, 3, 3, 5],
  [7, 9, 5, 16],
  [2, 28, 28, 16],
] as [number, number, number, number][]) {
  test(`Relu and its gradient on [${shape}]`, { skip: skipUnlessOnednn }, async () => {
    await onBothBackends(() => withGrads((x) => tf.relu(x), [randomTensor(shape, 4)], 5), ['Relu']);
  });
}

test('Abs above the native threshold (a gradient magnitude), and its gradient', {
  skip: skipUnlessOnednn,
}, async () => {
  await onBothBackends(() => withGrads((x) => tf.abs(x), [randomTensor([3, 3, 64, 40], 6)], 7), ['Abs']);
});

// Large enough to run natively (eltwise.ts MIN_NATIVE_BINARY); b broadcast every way the network uses.
const big = [2, 33, 17, 16];
const binaryCases: Array<{ op: 'add' | 'sub' | 'mul' | 'div'; a: number[]; b: number[]; kernel?: string }> = [
  { op: 'add', a: big, b: big, kernel: 'Add' },
  { op: 'add', a: [16], b: big, kernel: 'Add' },
  { op: 'sub', a: big, b: [1, 1, 17, 1], kernel: 'Sub' },
  { op: 'mul', a: [2, 1, 1, 16], b: big, kernel: 'Multiply' },
  { op: 'mul', a: big, b: [], kernel: 'Multiply' },
  { op: 'div', a: big, b: [16], kernel: 'RealDiv' },
  { op: 'sub', a: [16], b: big }, // a broadcast into b: the cpu kernel runs
];
for (const c of binaryCases) {
  test(`${c.op} [${c.a}] and [${c.b}], and its gradients`, { skip: skipUnlessOnednn }, async () => {
    await onBothBackends(
      () => {
        const a = randomTensor(c.a, 6);
        const b = c.op === 'div' ? tf.add(tf.abs(randomTensor(c.b, 7)), 0.5) : randomTensor(c.b, 7);
        // biome-ignore lint/performance/noDynamicNamespaceImportAccess: the case names the op; a test need not tree-shake
        return withGrads((x, y) => tf[c.op](x, y), [a, b], 8);
      },
      c.kernel ? [c.kernel] : [],
    );
  });
}

test('FusedBatchNorm with running statistics (test time), and its fallbacks (no scale, epsilon 0)', {
  skip: skipUnlessOnednn,
}, async () => {
  const perChannel = (c: number, seed: number, offset = 0) =>
    tf.add(tf.abs(randomTensor([c], seed)), offset) as tf.Tensor1D;
  await onBothBackends(
    () =>
      [
        [3, 5, 7, 17],
        [1, 4, 4, 3],
      ].flatMap(([n, h, w, c], i) => {
        const x = randomTensor([n!, h!, w!, c!], 20 + i) as tf.Tensor4D;
        const [mean, variance, beta, gamma] = [0, 1, 2, 3].map((k) =>
          perChannel(c!, 30 + 4 * i + k, k === 1 ? 0.1 : 0),
        );
        return [
          tf.batchNorm(x, mean!, variance!, beta, gamma, 1e-3),
          tf.batchNorm(x, mean!, variance!, beta, undefined, 1e-5),
          tf.batchNorm(x, mean!, variance!, beta, gamma, 0),
        ];
      }),
    ['FusedBatchNorm'],
  );
});

test('AvgPool 1x1/s2 (option A) and 2x2/s2, and their gradients', { skip: skipUnlessOnednn }, async () => {
  await onBothBackends(
    () => [
      ...withGrads((x) => tf.avgPool(x as tf.Tensor4D, 1, 2, 'valid'), [randomTensor([3, 9, 9, 5], 9)], 10),
      ...withGrads((x) => tf.avgPool(x as tf.Tensor4D, 2, 2, 'valid'), [randomTensor([2, 8, 8, 3], 11)], 12),
    ],
    ['AvgPool', 'AvgPoolGrad'],
  );
});

const MAX_POOL = ['MaxPool', 'MaxPoolGrad'];
const maxPoolCases: Array<{
  x: [number, number, number, number];
  k: number;
  stride: number;
  pad: 'same' | 'valid' | number;
  rounding?: 'ceil' | 'floor' | 'round';
}> = [
  { x: [2, 32, 32, 64], k: 3, stride: 2, pad: 1 }, // ResNet-50's stem at 64 px (batch 2)
  { x: [1, 7, 9, 3], k: 3, stride: 2, pad: 1 },
  { x: [2, 33, 33, 67], k: 3, stride: 2, pad: 1 },
  { x: [3, 8, 8, 1], k: 2, stride: 2, pad: 'valid' },
  { x: [2, 7, 9, 67], k: 2, stride: 2, pad: 'valid' },
  { x: [1, 9, 7, 3], k: 3, stride: 1, pad: 1 },
  { x: [2, 11, 11, 16], k: 3, stride: 2, pad: 'same' },
  // The last window reaches 2 rows past the input. tfjs's gradient drops the rounding, so that the cpu kernel (on
  // both backends) computes it from a dy of another size than it expects (see src/kernels/pool.ts).
  { x: [1, 8, 8, 3], k: 3, stride: 2, pad: 1, rounding: 'ceil' },
];
for (const c of maxPoolCases) {
  const name = `MaxPool ${c.k}x${c.k}/s${c.stride} pad ${c.pad}${c.rounding ? ` ${c.rounding}` : ''} x=[${c.x}]`;
  test(`${name}, and its gradient`, { skip: skipUnlessOnednn }, async () => {
    await onBothBackends(
      () =>
        withGrads(
          (x) => tf.maxPool(x as tf.Tensor4D, c.k, c.stride, c.pad, c.rounding),
          [randomTensor(c.x, 40 + c.x[3])],
          41,
        ),
      c.rounding === 'ceil' ? ['MaxPool'] : MAX_POOL,
    );
  });
}

test('MaxPool on ties: the first tap in row-major window order wins, as on the cpu, bit for bit', {
  skip: skipUnlessOnednn,
}, async () => {
  // Values from {-2, -1, 0, 1} (many ties in each window), a constant image (all ties, and every window of the
  // padded border), and small-integer gradients, so that both backends' sums are exact and must agree exactly.
  const levels = (shape: number[], seed: number) => tf.floor(tf.mul(tf.add(randomTensor(shape, seed), 1), 2));
  const integers = (shape: number[], seed: number) => tf.round(tf.mul(randomTensor(shape, seed), 8));
  const results: number[][][] = [];
  for (const backend of ['cpu', 'onednn']) {
    await tf.setBackend(backend);
    resetNativeCallCounts();
    const outputs = tf.tidy(() =>
      [
        { x: levels([2, 7, 9, 3], 50), k: 3, s: 2, pad: 1 },
        { x: tf.fill([1, 6, 5, 17], -1.5), k: 3, s: 2, pad: 1 },
        { x: levels([1, 9, 7, 16], 51), k: 3, s: 1, pad: 1 },
        { x: levels([2, 8, 6, 5], 52), k: 2, s: 2, pad: 'valid' as const },
      ].flatMap(({ x, k, s, pad }, i) => {
        const f = (a: tf.Tensor) => tf.maxPool(a as tf.Tensor4D, k, s, pad);
        const dy = integers(f(x).shape, 60 + i);
        return [f(x), tf.grad((a: tf.Tensor) => tf.sum(tf.mul(f(a), dy)))(x)];
      }),
    );
    results.push(outputs.map((t) => Array.from(t.dataSync())));
    tf.dispose(outputs);
  }
  for (const kernel of MAX_POOL) assert.ok((nativeCallCounts().get(kernel) ?? 0) > 0, `onednn ran no native ${kernel}`);
  assert.deepEqual(results[1], results[0]);
});

test('zero padding of channels (option A) and of a matrix, and their gradients (Slice)', {
  skip: skipUnlessOnednn,
}, async () => {
  await onBothBackends(
    () => [
      ...withGrads(
        (x) =>
          tf.pad(x, [
            [0, 0],
            [0, 0],
            [0, 0],
            [0, 5],
          ]),
        [randomTensor([2, 5, 5, 3], 13)],
        14,
      ),
      ...withGrads(
        (x) =>
          tf.pad(x, [
            [1, 2],
            [0, 1],
          ]),
        [randomTensor([5, 7], 15)],
        16,
      ),
    ],
    ['PadV2', 'Slice'],
  );
});

test('Mean over H and W (global average pooling), Sum over the batch, and their gradients', {
  skip: skipUnlessOnednn,
}, async () => {
  await onBothBackends(
    () => [
      ...withGrads((x) => tf.mean(x, [1, 2]), [randomTensor([3, 7, 5, 9], 17)], 18),
      ...withGrads((x) => tf.sum(x, 0), [randomTensor([128, 10], 19)], 20),
      ...withGrads((x) => tf.sum(x, [1, 2], true), [randomTensor([2, 5, 3, 4], 21)], 22),
    ],
    ['Mean', 'Sum'],
  );
});

test('MatMul with every transpose, batched, and its gradients', { skip: skipUnlessOnednn }, async () => {
  await onBothBackends(
    () => [
      ...withGrads(
        (a, b) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D),
        [randomTensor([5, 7], 23), randomTensor([7, 3], 24)],
        25,
      ),
      tf.matMul(randomTensor([7, 5], 26) as tf.Tensor2D, randomTensor([7, 3], 27) as tf.Tensor2D, true, false),
      tf.matMul(randomTensor([5, 7], 28) as tf.Tensor2D, randomTensor([3, 7], 29) as tf.Tensor2D, false, true),
      tf.matMul(randomTensor([2, 5, 7], 30) as tf.Tensor3D, randomTensor([2, 7, 3], 31) as tf.Tensor3D),
    ],
    ['BatchMatMul'],
  );
});
