// The bf16 kernels (Conv2D and both its gradients, BatchMatMul) against the fp32 cpu backend, forward and through
// tf.grads, on the awkward shapes of kernels.test.ts and on ResNet-20/56's and ResNet-50's. Each output element
// must be within the error bound of a bf16 dot product (BF16_DOT_BOUND); and each output must be further from the
// fp32 result than fp32's own tolerance, which proves that bf16 ran. Skipped, loudly, where oneDNN has no bf16 dot
// products (the refusal there is tested in bf16-refusal.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs'; // registers tfjs's gradient functions
import {
  bf16CallCounts,
  nativeCallCounts,
  onednnBf16Support,
  onednnInfo,
  resetNativeCallCounts,
  setOnednnPrecision,
} from '../src/index.js';
import { skipUnlessOnednn } from './availability.js';

const support = onednnBf16Support();
if (!skipUnlessOnednn && !support.supported)
  console.warn(`\n*** SKIPPING the bf16 kernel tests: ${support.reason} ***\n`);
const skipUnlessBf16: false | string = skipUnlessOnednn || (support.supported ? false : support.reason);

/** bf16's unit roundoff: 8 significant bits (7 stored and the implicit one), rounded to nearest. */
const BF16_UNIT_ROUNDOFF = 2 ** -8;

/**
 * The bound on |bf16 result - fp32 result| of one output element, as a fraction of the sum of the magnitudes of
 * its dot product's terms, sum |a_i| |b_i| (every kernel here is one dot product per output element, of fp32
 * inputs: x and the filter, dy and the filter, x and dy, a and b). Each operand is rounded to bf16 once, so each
 * product is off by at most (1 + u)^2 - 1 = 2u + u^2 of its magnitude (u = 2^-8): about 2 * 2^-8 per term. The sum
 * is accumulated in fp32 on both sides, each off by at most K * 2^-24 of the magnitude for K terms in the worst
 * case; with K <= 2^12 in every case here, both together stay under 2^-11.
 */
const BF16_DOT_BOUND = 2 * BF16_UNIT_ROUNDOFF + BF16_UNIT_ROUNDOFF ** 2 + 2 ** -11;

/** The tolerance of the fp32 kernel tests (kernels.test.ts), relative to the largest output: bf16 must exceed it. */
const FP32_TOLERANCE = 1e-4;

/** Seeded uniform values in [-1, 1) (as kernels.test.ts). */
function values(size: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: size }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

const randomTensor = (shape: number[], seed: number) => tf.tensor(values(tf.util.sizeFromShape(shape), seed), shape);

/** A bilinear function of two tensors (a convolution, a matmul): its value and its gradients with respect to both. */
type Bilinear = (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;

/** f(a, b) and the gradients of sum(f(a, b) * weights), each one dot product per element. */
function withGrads(f: Bilinear, a: tf.Tensor, b: tf.Tensor, weights: tf.Tensor): tf.Tensor[] {
  const [da, db] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(f(x, y), weights)))([a, b]);
  return [f(a, b), da!, db!];
}

/** The outputs of `f` on seeded inputs of `shapes`, and the magnitudes sum |a_i||b_i| of each element's terms. */
function outputsAndMagnitudes(f: Bilinear, shapes: [number[], number[]], seed: number): tf.Tensor[][] {
  const [a, b] = shapes.map((s, i) => randomTensor(s, seed + i)) as [tf.Tensor, tf.Tensor];
  const weights = randomTensor(f(a, b).shape, seed + 2);
  // f is bilinear, so f(|a|, |b|) and the gradients through |weights| sum the magnitudes of the same terms.
  return [withGrads(f, a, b, weights), withGrads(f, tf.abs(a), tf.abs(b), tf.abs(weights))];
}

interface Case {
  f: Bilinear;
  shapes: [number[], number[]];
  kernels: string[];
}

/** Runs `c` on the cpu (fp32, and the magnitudes) and on onednn in bf16, and checks every output against the bound. */
async function checkBf16(c: Case, seed: number): Promise<void> {
  await tf.setBackend('cpu');
  const [want, magnitude] = tf
    .tidy(() => outputsAndMagnitudes(c.f, c.shapes, seed))
    .map((ts) =>
      ts.map((t) => {
        const v = t.dataSync() as Float32Array;
        t.dispose();
        return v;
      }),
    ) as [Float32Array[], Float32Array[]];
  await tf.setBackend('onednn');
  setOnednnPrecision('bf16');
  resetNativeCallCounts();
  const got = tf
    .tidy(() => outputsAndMagnitudes(c.f, c.shapes, seed)[0]!)
    .map((t) => {
      const v = t.dataSync() as Float32Array;
      t.dispose();
      return v;
    });
  const counts = bf16CallCounts();
  for (const kernel of c.kernels) {
    assert.ok((nativeCallCounts().get(kernel) ?? 0) > 0, `${kernel}: no native call`);
    assert.deepEqual(counts.get(kernel), { bf16: nativeCallCounts().get(kernel), fp32: 0 }, `${kernel}: bf16 calls`);
  }
  ['value', 'gradient of a', 'gradient of b'].forEach((what, i) => {
    const [g, w, m] = [got[i]!, want[i]!, magnitude[i]!];
    assert.equal(g.length, w.length, `${what}: length`);
    let worst = 0; // the largest error as a fraction of its bound
    let diff = 0;
    let scale = 1e-30;
    for (let j = 0; j < w.length; j++) {
      const err = Math.abs(g[j]! - w[j]!);
      worst = Math.max(worst, err / (BF16_DOT_BOUND * m[j]! + 1e-30));
      diff = Math.max(diff, err);
      scale = Math.max(scale, Math.abs(w[j]!));
    }
    assert.ok(worst <= 1, `${what}: an error ${worst.toFixed(2)} times the bf16 bound`);
    assert.ok(diff / scale > FP32_TOLERANCE, `${what}: relative error ${(diff / scale).toExponential(2)}: fp32 ran?`);
  });
}

const CONV = ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'];
const conv =
  (stride: number, pad: 'same' | 'valid' | number): Bilinear =>
  (x, f) =>
    tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, stride, pad);

const convCases: Array<{
  x: [number, number, number, number];
  k: number;
  cout: number;
  stride: number;
  pad: 'same' | 'valid' | number;
}> = [
  // kernels.test.ts's awkward shapes
  { x: [1, 5, 5, 3], k: 3, cout: 7, stride: 1, pad: 'same' },
  { x: [2, 9, 9, 5], k: 3, cout: 3, stride: 2, pad: 'same' },
  { x: [3, 7, 7, 16], k: 1, cout: 16, stride: 1, pad: 'valid' },
  { x: [2, 8, 8, 12], k: 1, cout: 20, stride: 2, pad: 'valid' }, // NCHW copies (oneDNN#6035, native/conv.cc)
  { x: [1, 13, 11, 1], k: 3, cout: 16, stride: 1, pad: 1 },
  { x: [2, 11, 7, 9], k: 3, cout: 5, stride: 2, pad: 0 },
  { x: [2, 6, 6, 17], k: 3, cout: 33, stride: 1, pad: 'same' },
  { x: [4, 14, 14, 32], k: 3, cout: 64, stride: 2, pad: 1 },
  // ResNet-20/56 on 28x28 (batch 2)
  { x: [2, 28, 28, 1], k: 3, cout: 16, stride: 1, pad: 'same' },
  { x: [2, 28, 28, 16], k: 3, cout: 16, stride: 1, pad: 'same' },
  { x: [2, 28, 28, 16], k: 3, cout: 32, stride: 2, pad: 1 },
  { x: [2, 7, 7, 64], k: 3, cout: 64, stride: 1, pad: 'same' },
  // ResNet-50 at 64 px: the stem (and at an odd size), the strided 1x1 projections, a 3x3 and a 1x1 of stage 4
  { x: [1, 64, 64, 3], k: 7, cout: 64, stride: 2, pad: 3 },
  { x: [1, 33, 33, 3], k: 7, cout: 64, stride: 2, pad: 3 },
  { x: [2, 16, 16, 64], k: 1, cout: 128, stride: 2, pad: 'valid' },
  { x: [1, 8, 8, 256], k: 1, cout: 512, stride: 2, pad: 'valid' },
  { x: [1, 4, 4, 256], k: 3, cout: 256, stride: 1, pad: 'same' },
  { x: [1, 2, 2, 512], k: 1, cout: 2048, stride: 1, pad: 'valid' },
];
for (const [i, c] of convCases.entries()) {
  test(`bf16 Conv2D ${c.k}x${c.k}/s${c.stride} pad ${c.pad} x=[${c.x}] cout=${c.cout}, and its gradients`, {
    skip: skipUnlessBf16,
  }, async () => {
    await checkBf16(
      {
        f: conv(c.stride, c.pad),
        shapes: [c.x, [c.k, c.k, c.x[3], c.cout]],
        kernels: CONV,
      },
      100 + 3 * i,
    );
  });
}

const matMulCases: Array<{ a: number[]; b: number[]; ta?: boolean; tb?: boolean }> = [
  { a: [5, 7], b: [7, 3] },
  { a: [7, 5], b: [7, 3], ta: true },
  { a: [5, 7], b: [3, 7], tb: true },
  { a: [2, 5, 7], b: [2, 7, 3] },
  { a: [8, 64], b: [64, 10] }, // ResNet-20's head
  { a: [16, 2048], b: [2048, 10] }, // ResNet-50's head
];
for (const [i, c] of matMulCases.entries()) {
  test(`bf16 MatMul [${c.a}]${c.ta ? 'T' : ''} x [${c.b}]${c.tb ? 'T' : ''}, and its gradients`, {
    skip: skipUnlessBf16,
  }, async () => {
    await checkBf16(
      {
        f: (a, b) => tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D, c.ta, c.tb),
        shapes: [c.a, c.b],
        kernels: ['BatchMatMul'],
      },
      200 + 3 * i,
    );
  });
}

test('setOnednnPrecision switches both ways, and onednnInfo reports the precision in force', {
  skip: skipUnlessBf16,
}, async () => {
  await tf.setBackend('onednn');
  const x = randomTensor([2, 9, 9, 5], 1) as tf.Tensor4D;
  const f = randomTensor([3, 3, 5, 8], 2) as tf.Tensor4D;
  const run = () => tf.tidy(() => tf.conv2d(x, f, 1, 'same').dataSync() as Float32Array);
  setOnednnPrecision('fp32');
  assert.equal(onednnInfo().precision, 'fp32');
  resetNativeCallCounts();
  const fp32 = run();
  assert.equal(bf16CallCounts().size, 0, 'fp32 made bf16 calls');
  setOnednnPrecision('bf16');
  assert.equal(onednnInfo().precision, 'bf16');
  const bf16 = run();
  assert.deepEqual(bf16CallCounts().get('Conv2D'), { bf16: 1, fp32: 0 });
  assert.notDeepEqual(bf16, fp32, 'bf16 gave the fp32 result bit for bit');
  setOnednnPrecision('fp32');
  assert.deepEqual(run(), fp32, 'back in fp32, another result');
  assert.throws(
    () => setOnednnPrecision('fp16' as 'fp32'),
    /onednn: precision: expected one of fp32, bf16, received "fp16"/,
  );
  tf.dispose([x, f]);
});
