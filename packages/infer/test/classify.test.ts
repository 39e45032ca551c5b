// classify and logits on a random ResNet-8: top-k order and size, softmax over all classes, batching, layouts,
// the normalisation from the model's metadata, loading from a path or bytes, and dispose.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { load, softmax, type Classifier } from '../src/index.js';
import { toNchwInput } from '../src/common/index.js';
import { fixtureModelBytes, INPUT, NORMALIZATION } from './fixtures.js';
import { hwcToChw, randomImage, tempFile } from './helpers.js';

const bytes = fixtureModelBytes();
const images = [randomImage(1), randomImage(2), randomImage(3)];
let classifier: Classifier;

before(async () => {
  classifier = await load(bytes, { device: 'cpu' });
});
after(async () => {
  await classifier.dispose();
});

test('info describes the model and the device', () => {
  const { info } = classifier;
  assert.equal(info.labels.length, 10);
  assert.equal(info.labels[0], 'airplane');
  assert.deepEqual(info.input, INPUT);
  assert.deepEqual(info.normalization, NORMALIZATION);
  assert.equal(info.architecture?.depth, 8);
  assert.equal(info.device, 'cpu');
  assert.equal(info.provider, 'cpu');
  assert.deepEqual(info.fallbacks, []);
  assert.ok(Object.isFrozen(info.normalization.mean), 'the normalisation used by classify cannot be edited');
});

test('classify returns the top 3 by default, sorted, with labels matching indices', async () => {
  const [result] = await classifier.classify(images[0]!);
  assert.equal(result!.top.length, 3);
  for (let i = 1; i < result!.top.length; i++)
    assert.ok(result!.top[i - 1]!.probability >= result!.top[i]!.probability);
  for (const p of result!.top) assert.equal(p.label, classifier.info.labels[p.index]);
});

test('probabilities are the softmax of the logits over all classes and sum to 1', async () => {
  const [logits] = await classifier.logits(images[0]!);
  assert.equal(logits!.length, 10);
  const probs = softmax(logits!);
  assert.ok(Math.abs(probs.reduce((a, b) => a + b, 0) - 1) < 1e-9);
  const [all] = await classifier.classify(images[0]!, { topK: 10 });
  assert.equal(all!.top.length, 10);
  assert.ok(Math.abs(all!.top.reduce((a, p) => a + p.probability, 0) - 1) < 1e-9);
  for (const p of all!.top) assert.equal(p.probability, probs[p.index]);
  assert.deepEqual(new Set(all!.top.map((p) => p.index)).size, 10);
});

test('topK is respected', async () => {
  for (const topK of [1, 2, 5, 10]) {
    const [result] = await classifier.classify(images[1]!, { topK });
    assert.equal(result!.top.length, topK);
  }
});

test('a batch of 3 equals 3 single calls', async () => {
  const batch = await classifier.logits(images);
  assert.equal(batch.length, 3);
  for (let i = 0; i < 3; i++) {
    const [single] = await classifier.logits(images[i]!);
    for (let j = 0; j < 10; j++) assert.ok(Math.abs(batch[i]![j]! - single![j]!) < 1e-5, `image ${i} class ${j}`);
  }
  const classified = await classifier.classify(images, { topK: 2 });
  assert.equal(classified.length, 3);
  for (let i = 0; i < 3; i++) {
    const [single] = await classifier.classify([images[i]!], { topK: 2 });
    assert.deepEqual(
      classified[i]!.top.map((p) => p.index),
      single!.top.map((p) => p.index),
    );
  }
});

test('images differ, so the batch test compares something', async () => {
  const [a, b] = await classifier.logits([images[0]!, images[1]!]);
  assert.ok(a!.some((v, j) => Math.abs(v - b![j]!) > 1e-4));
});

test('HWC and CHW give the same result', async () => {
  const hwc = await classifier.logits(images);
  const chw = await classifier.logits(images.map(hwcToChw), { layout: 'CHW' });
  assert.deepEqual(chw, hwc);
  const [explicit] = await classifier.logits(images[0]!, { layout: 'HWC' });
  assert.deepEqual(explicit, hwc[0]);
});

test('Float32Array pixels give the same result as Uint8Array pixels', async () => {
  const [u8] = await classifier.logits(images[2]!);
  const [f32] = await classifier.logits(Float32Array.from(images[2]!));
  assert.deepEqual(f32, u8);
});

test('pre-processing normalises per channel with the model metadata into NCHW', () => {
  const image = randomImage(9);
  const data = toNchwInput([image, image], INPUT, NORMALIZATION, 'HWC');
  const { height, width, channels } = INPUT;
  assert.equal(data.length, 2 * image.length);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const pixel = image[(y * width + x) * channels + c]!;
        const expected = (pixel / 255 - NORMALIZATION.mean[c]!) / NORMALIZATION.std[c]!;
        const at = (c * height + y) * width + x;
        assert.ok(Math.abs(data[at]! - expected) < 1e-5, `c=${c} y=${y} x=${x}`);
        assert.equal(data[image.length + at], data[at]);
      }
    }
  }
});

test('a path loads the same model as its bytes', async () => {
  const file = tempFile('model.onnx', bytes);
  const fromPath = await load(file.path);
  try {
    assert.equal(fromPath.info.device, 'cpu', 'Node defaults to cpu');
    assert.deepEqual(await fromPath.logits(images), await classifier.logits(images));
  } finally {
    await fromPath.dispose();
    file.cleanup();
  }
});

test('dispose releases the session; later calls throw and a second dispose is harmless', async () => {
  const c = await load(bytes);
  const running = c.logits(images);
  await c.dispose();
  assert.equal((await running).length, 3, 'a call already running completes');
  await assert.rejects(c.classify(images[0]!), /disposed/);
  await c.dispose();
});
