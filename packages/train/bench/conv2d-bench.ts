// Micro-benchmark of conv2d's gradients on wasm: median ms of the forward conv, our dx and dfilter, and tf's dx.
// Run from packages/train: node --import tsx bench/conv2d-bench.ts
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { conv2dFilterGrad, conv2dInputGrad } from '../src/kernels/wasm-kernels.js';

const WARMUP = 3;
const RUNS = 15;

/** Median wall time of `op`, read back so that the work is done before the clock stops. */
function medianMs(op: () => tf.Tensor): number {
  const times: number[] = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const start = performance.now();
    tf.tidy(() => {
      op().dataSync();
    });
    if (i >= WARMUP) times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

await tf.setBackend('wasm');
const pad = 1;
for (const stride of [1, 2] as const) {
  const x = tf.randomNormal([64, 28, 28, 16]) as tf.Tensor4D;
  const f = tf.randomNormal([3, 3, 16, 16]) as tf.Tensor4D;
  const y = tf.conv2d(x, f, stride, pad);
  const dy = tf.randomNormal(y.shape) as tf.Tensor4D;
  const rows = {
    forward: medianMs(() => tf.conv2d(x, f, stride, pad)),
    'our dx': medianMs(() => conv2dInputGrad(x.shape, dy, f, stride, pad)),
    'our dfilter': medianMs(() => conv2dFilterGrad(x, dy, f.shape, stride, pad)),
    'tf dx (Conv2DBackpropInput)': medianMs(() => tf.conv2dTranspose(dy, f, x.shape, stride, pad)),
  };
  console.log(
    `x=[64,28,28,16] filter=3x3x16x16 stride=${stride} pad=${pad} backend=${tf.getBackend()} (median of ${RUNS})`,
  );
  for (const [name, ms] of Object.entries(rows)) console.log(`  ${name.padEnd(28)} ${ms.toFixed(2)} ms`);
  tf.dispose([x, f, y, dy]);
}
