// The ResNet-50 stem's max pool (3x3/2, pad 1, 64 channels, batch 64) at 64 px and 112 px input (x 32x32 and
// 56x56): the native forward and backward (which runs the forward again for its workspace, see native/pool.cc),
// medians of several repeats, beside one run of tfjs's cpu kernels at 64 px.
//
//   node --import tsx packages/backend-onednn/bench/max-pool.ts [--repeats 7] [--threads N]
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadBinding } from '../src/native.js';

const { values: args } = parseArgs({
  options: { repeats: { type: 'string', default: '7' }, threads: { type: 'string' } },
});
const repeats = Number(args.repeats);
const loaded = loadBinding();
if (!('binding' in loaded)) throw new Error(loaded.reason);
const { binding } = loaded;
binding.setThreads(args.threads ? Number(args.threads) : availableParallelism());

function median(run: () => void): number {
  run();
  const ms: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = process.hrtime.bigint();
    run();
    ms.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return ms.sort((a, b) => a - b)[Math.floor(repeats / 2)]!;
}

console.log(`oneDNN ${binding.info().version}, ${binding.info().threads} thread(s); medians of ${repeats} runs, ms`);
for (const size of [32, 56]) {
  const [n, c, out] = [64, 64, size / 2];
  const g = [n, size, size, c, out, out, 3, 3, 2, 2, 1, 1, 1, 1];
  const x = Float32Array.from({ length: n * size * size * c }, (_, i) => Math.sin(i * 0.37));
  const y = new Float32Array(n * out * out * c);
  const dy = Float32Array.from(y, (_, i) => Math.cos(i * 0.11));
  const dx = new Float32Array(x.length);
  const forward = median(() => binding.maxPoolForward(g, x, y));
  const backward = median(() => binding.maxPoolBackward(g, x, dy, dx));
  let cpu = '';
  if (size === 32) {
    await tf.setBackend('cpu');
    (tf.backend() as unknown as { firstUse: boolean }).firstUse = false; // no advice to install tfjs-node
    const xt = tf.tensor4d(x, [n, size, size, c]);
    const start = performance.now();
    const [yt, dxt] = tf.tidy(() => {
      const pooled = tf.maxPool(xt, 3, 2, 1);
      const grad = tf.engine().runKernel(
        'MaxPoolGrad',
        { dy: pooled, input: xt, output: pooled },
        {
          filterSize: 3,
          strides: 2,
          pad: 1,
        },
      ) as tf.Tensor;
      return [pooled, grad];
    });
    dxt!.dataSync();
    cpu = `; tfjs cpu, once: forward and backward ${(performance.now() - start).toFixed(0)}`;
    tf.dispose([xt, yt!, dxt!]);
  }
  console.log(`x [${n}, ${size}, ${size}, ${c}]: forward ${forward.toFixed(2)}, backward ${backward.toFixed(2)}${cpu}`);
}
