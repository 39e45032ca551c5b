// The Node entry's session factory (what `load` and @depthfold/serve's workers both start sessions with) and the
// in-place pixel normalisation that `classify` and serve's UINT8 requests share: the same devices in the same order,
// the same failures, and the same bits.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  createSession,
  DEVICE_TABLE,
  InferDeviceError,
  InferInputError,
  load,
  normalizePixelsInPlace,
  type ModelSession,
} from '../src/index.js';
import { startFirstSession, toNchwInput, type ExecutionProvider } from '../src/common/index.js';
import { fixtureModelBytes, INPUT, NORMALIZATION } from './fixtures.js';
import { failsWith, hwcToChw, randomImage } from './helpers.js';

const bytes = fixtureModelBytes();
const node = DEVICE_TABLE.node;
const IMAGE = INPUT.height * INPUT.width * INPUT.channels;

async function runOnce(session: ModelSession, image: Uint8Array): Promise<Float32Array> {
  const data = toNchwInput([image], INPUT, NORMALIZATION, 'HWC');
  const output = await session.run('input', { data, dims: [1, INPUT.channels, INPUT.height, INPUT.width] }, 'logits');
  return output.data;
}

test('createSession starts on cpu by default and runs the logits that load gives', async () => {
  const started = await createSession(bytes);
  const classifier = await load(bytes);
  try {
    assert.equal(started.device, 'cpu');
    assert.equal(started.provider, 'cpu');
    assert.deepEqual(started.fallbacks, []);
    assert.deepEqual([...started.session.inputNames], ['input']);
    assert.deepEqual([...started.session.outputNames], ['logits']);
    const image = randomImage(3);
    assert.deepEqual(await runOnce(started.session, image), (await classifier.logits(image))[0]);
  } finally {
    await started.session.release();
    await classifier.dispose();
  }
});

test('createSession takes ORT threads, an optimisation level and spin-waiting, and the logits do not change', async () => {
  const plain = await createSession(bytes, 'cpu');
  const tuned = await createSession(bytes, 'cpu', { threads: 2, graphOptimizationLevel: 'all', spinWait: false });
  try {
    const image = randomImage(4);
    assert.deepEqual(await runOnce(tuned.session, image), await runOnce(plain.session, image));
  } finally {
    await plain.session.release();
    await tuned.session.release();
  }
});

test('createSession refuses bad bytes, devices and options, naming each', async () => {
  await assert.rejects(
    createSession([1, 2] as unknown as Uint8Array),
    failsWith(InferInputError, /^bytes: expected the bytes of an \.onnx file \(Uint8Array\), received "array\(2\)"$/),
  );
  await assert.rejects(
    createSession(bytes, 'wasm'),
    failsWith(InferInputError, /^device: expected one of the devices available in node: /),
  );
  for (const threads of [-1, 1.5, Number.NaN]) {
    await assert.rejects(
      createSession(bytes, 'cpu', { threads }),
      failsWith(InferInputError, /^threads: expected an integer >= 0 \(0 leaves ONNX Runtime's default\), received /),
    );
  }
  await assert.rejects(
    createSession(bytes, 'cpu', { graphOptimizationLevel: 'max' as 'all' }),
    failsWith(
      InferInputError,
      /^graphOptimizationLevel: expected one of "disabled", "basic", "extended", "all", received "max"$/,
    ),
  );
  await assert.rejects(
    createSession(bytes, 'cpu', { spinWait: 'no' as unknown as boolean }),
    failsWith(InferInputError, /^spinWait: expected a boolean, received "no"$/),
  );
});

test('createSession on auto takes the table order and records the devices before the one that started', async () => {
  const started = await createSession(bytes, 'auto');
  const classifier = await load(bytes, { device: 'auto' });
  try {
    assert.ok(node.auto.includes(started.device));
    assert.equal(started.provider, node.providers[started.device]);
    assert.deepEqual(
      started.fallbacks.map((f) => f.device),
      node.auto.slice(0, node.auto.indexOf(started.device)),
    );
    // One implementation: load on auto lands on the same device with the same reasons.
    assert.equal(classifier.info.device, started.device);
    assert.deepEqual(classifier.info.fallbacks, started.fallbacks);
  } finally {
    await started.session.release();
    await classifier.dispose();
  }
});

test("a cuda that cannot start fails createSession as it fails load, with the CUDA provider's hint", async (t) => {
  let started;
  try {
    started = await createSession(bytes, 'cuda');
  } catch (error) {
    assert.ok(error instanceof InferDeviceError, String(error));
    assert.equal(error.device, 'cuda');
    assert.match(
      error.failures[0]!.reason,
      /npm ships onnxruntime-node without its CUDA provider: `pnpm setup:cuda` fetches it/,
    );
    assert.ok(error.available.includes('cpu') && error.available.includes('auto'), error.available.join(', '));
    const fromLoad = await load(bytes, { device: 'cuda' }).then(
      () => assert.fail('load started cuda where createSession could not'),
      (e: unknown) => e,
    );
    assert.ok(fromLoad instanceof InferDeviceError);
    assert.deepEqual(fromLoad.failures, error.failures);
    assert.deepEqual(fromLoad.available, error.available);
    return;
  }
  await started.session.release();
  t.skip('cuda starts on this machine: nothing fails');
});

test('startFirstSession tries providers in order, stops at the first that starts, and keeps what each threw', async () => {
  const tried: ExecutionProvider[] = [];
  const refusal = new Error('no such\n  provider');
  const session = { inputNames: [], outputNames: [], run: () => assert.fail('not run'), release: async () => {} };
  const backend = {
    async createSession(_: Uint8Array, provider: ExecutionProvider, options?: { threads?: number }) {
      tried.push(provider);
      assert.deepEqual(options, { threads: 2 });
      if (provider !== 'cpu') throw refusal;
      return session;
    },
  };
  const candidates = [
    { device: 'cuda', provider: 'cuda' },
    { device: 'webgpu', provider: 'webgpu' },
    { device: 'cpu', provider: 'cpu' },
  ] as const;
  const attempts = await startFirstSession(backend, bytes, [...candidates, { device: 'cpu', provider: 'cpu' }], {
    threads: 2,
  });
  assert.deepEqual(tried, ['cuda', 'webgpu', 'cpu']);
  assert.equal(attempts.started?.session, session);
  assert.equal(attempts.started?.device, 'cpu');
  assert.deepEqual(attempts.fallbacks, [
    { device: 'cuda', provider: 'cuda', reason: 'no such provider' },
    { device: 'webgpu', provider: 'webgpu', reason: 'no such provider' },
  ]);
  assert.equal(attempts.errors.get('cuda'), refusal);

  const none = await startFirstSession(backend, bytes, candidates.slice(0, 2), { threads: 2 });
  assert.equal(none.started, undefined);
  assert.deepEqual(
    none.fallbacks.map((f) => f.provider),
    ['cuda', 'webgpu'],
  );
});

test('normalizePixelsInPlace computes p * (1 / (255 std)) - mean / std per channel, rounded once to float32', () => {
  const images = [randomImage(5), randomImage(6)].map(hwcToChw);
  const data = new Float32Array(2 * IMAGE);
  images.forEach((image, n) => data.set(image, n * IMAGE));
  const result = normalizePixelsInPlace(data, INPUT, NORMALIZATION);
  assert.equal(result, data, 'in place');
  const plane = INPUT.height * INPUT.width;
  for (let i = 0; i < data.length; i++) {
    const c = Math.floor((i % IMAGE) / plane);
    const pixel = images[Math.floor(i / IMAGE)]![i % IMAGE]!;
    const { mean, std } = NORMALIZATION;
    assert.equal(data[i], Math.fround(pixel * (1 / (255 * std[c]!)) + -mean[c]! / std[c]!), `value ${i}`);
  }
  // toNchwInput is the copy into NCHW followed by this: the same bits from either layout.
  const chw = toNchwInput(images, INPUT, NORMALIZATION, 'CHW');
  const hwc = toNchwInput([randomImage(5), randomImage(6)], INPUT, NORMALIZATION, 'HWC');
  assert.deepEqual(chw, data);
  assert.deepEqual(hwc, data);
});

test('normalizePixelsInPlace refuses data that is not whole images and a normalisation of other channels', () => {
  assert.throws(
    () => normalizePixelsInPlace(new Float32Array(IMAGE + 1), INPUT, NORMALIZATION),
    failsWith(InferInputError, /^data: expected a multiple of 90 values \(images of 3x6x5, NCHW\), received 91$/),
  );
  assert.throws(
    () => normalizePixelsInPlace(new Uint8Array(IMAGE) as unknown as Float32Array, INPUT, NORMALIZATION),
    failsWith(InferInputError, /^data: expected a Float32Array of NCHW pixels, received "Uint8Array\(90\)"$/),
  );
  assert.throws(
    () => normalizePixelsInPlace(new Float32Array(IMAGE), INPUT, { mean: [0.5], std: [0.25, 0.25, 0.25] }),
    failsWith(InferInputError, /^normalization\.mean: expected 3 values \(one per channel\), received 1$/),
  );
});
