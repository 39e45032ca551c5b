// Large batches run MAX_RUN_BATCH images per ONNX Runtime call: the calls are bounded, and the results equal those
// of one call over the whole batch.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { loadClassifier, MAX_RUN_BATCH, toNchwInput, type InferenceBackend, type Pixels } from '../src/common/index.js';
import { ortNodeBackend } from '../src/node/ort-backend.js';
import { fixtureModelBytes, INPUT, NORMALIZATION } from './fixtures.js';
import { randomImage } from './helpers.js';

const bytes = fixtureModelBytes();

/** The Node backend, recording the batch size of every call its sessions run. */
function countingBackend(calls: number[]): InferenceBackend {
  return {
    ...ortNodeBackend,
    async createSession(model, provider) {
      const session = await ortNodeBackend.createSession(model, provider);
      return {
        inputNames: session.inputNames,
        outputNames: session.outputNames,
        run(inputName, input, outputName) {
          calls.push(input.dims[0]!);
          return session.run(inputName, input, outputName);
        },
        release: () => session.release(),
      };
    },
  };
}

test('a batch of 600 runs as 256 + 256 + 88 images and equals one ONNX Runtime call over all 600', async () => {
  assert.equal(MAX_RUN_BATCH, 256);
  const images = Array.from({ length: 600 }, (_, i) => randomImage(1000 + i));
  const calls: number[] = [];
  const classifier = await loadClassifier(countingBackend(calls), bytes, { device: 'cpu' });
  let chunked: Float32Array[];
  try {
    chunked = await classifier.logits(images);
  } finally {
    await classifier.dispose();
  }
  assert.deepEqual(calls, [256, 256, 88]);

  const session = await InferenceSession.create(bytes, { executionProviders: ['cpu'] });
  try {
    const data = toNchwInput(images, INPUT, NORMALIZATION, 'HWC');
    const out = await session.run({
      input: new Tensor('float32', data, [600, INPUT.channels, INPUT.height, INPUT.width]),
    });
    const whole = out.logits!.data as Float32Array;
    assert.equal(chunked.length, 600);
    let worst = 0;
    chunked.forEach((row, n) => row.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - whole[n * 10 + j]!)))));
    assert.ok(worst < 1e-5, `largest difference ${worst}`);
  } finally {
    await session.release();
  }
});

test('100,000 images run in calls of at most 256, in order', async () => {
  const base: Pixels[] = Array.from({ length: 7 }, (_, i) => randomImage(i));
  const images = Array.from({ length: 100_000 }, (_, i) => base[i % 7]!);
  const calls: number[] = [];
  const classifier = await loadClassifier(countingBackend(calls), bytes, { device: 'cpu' });
  try {
    const [results, alone] = [
      await classifier.classify(images, { topK: 1 }),
      await classifier.classify(base, { topK: 1 }),
    ];
    assert.equal(results.length, 100_000);
    assert.equal(Math.max(...calls), 256);
    assert.deepEqual(calls, [...Array(390).fill(256), 100_000 - 390 * 256, 7]);
    for (const n of [0, 255, 256, 99_999]) {
      const [got, want] = [results[n]!.top[0]!, alone[n % 7]!.top[0]!];
      assert.equal(got.index, want.index, `image ${n}`);
      assert.ok(
        Math.abs(got.probability - want.probability) < 1e-6,
        `image ${n}: ${got.probability} vs ${want.probability}`,
      );
    }
  } finally {
    await classifier.dispose();
  }
});
