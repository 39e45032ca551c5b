// Every bad input names what was expected and what was received: images, options, model files and metadata.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildModel, encodeModel } from '@depthfold/onnx';
import { DepthfoldInputError, InferInputError, load, type Classifier, type Pixels } from '../src/index.js';
import { fixtureModelBytes, metadataFor, randomCheckpoint } from './fixtures.js';
import { failsWith, randomImage, tempFile } from './helpers.js';

const bytes = fixtureModelBytes();
const good = randomImage(1);
let classifier: Classifier;

before(async () => {
  classifier = await load(bytes);
});
after(async () => {
  await classifier.dispose();
});

test('a wrong pixel count names the image, the expected and the received count', async () => {
  const short = good.subarray(1);
  await assert.rejects(
    classifier.classify([good, short]),
    failsWith(InferInputError, /^images\[1\]: expected 90 pixel values \(HWC 6x5x3\), received 89$/),
  );
  await assert.rejects(
    classifier.logits(new Uint8Array(91), { layout: 'CHW' }),
    failsWith(InferInputError, /images\[0\]: expected 90 pixel values \(CHW 3x6x5\), received 91/),
  );
});

test('a wrong dtype names the image and the type received', async () => {
  await assert.rejects(
    classifier.classify([good, new Int32Array(90) as unknown as Pixels]),
    failsWith(
      InferInputError,
      /images\[1\]: expected a Uint8Array or Float32Array of raw pixels, a raw image \{ width, height, channels, data \}, a path \(string\) or encoded bytes \{ encoded: Uint8Array \}, received "Int32Array\(90\)"/,
    ),
  );
  await assert.rejects(
    classifier.logits([Array.from(good) as unknown as Pixels]),
    failsWith(InferInputError, /images\[0\]: .*received "array\(90\)"/),
  );
  await assert.rejects(
    classifier.logits(new Float64Array(90) as unknown as Pixels),
    failsWith(InferInputError, /received "Float64Array\(90\)"/),
  );
});

test('an empty batch is refused', async () => {
  await assert.rejects(
    classifier.classify([]),
    failsWith(InferInputError, /^images: expected at least one image, received \[\]$/),
  );
  await assert.rejects(classifier.logits([]), failsWith(InferInputError, /at least one image/));
});

test('NaN or Inf in a Float32Array names the image and the value index', async () => {
  const nan = Float32Array.from(good);
  nan[17] = Number.NaN;
  await assert.rejects(
    classifier.classify([good, good, nan]),
    failsWith(InferInputError, /^images\[2\]\[17\]: expected a finite pixel value \(0\.\.255\), received "NaN"$/),
  );
  const inf = Float32Array.from(good);
  inf[89] = -Infinity;
  await assert.rejects(classifier.logits(inf), failsWith(InferInputError, /images\[0\]\[89\]: .*received "-Infinity"/));
});

test('a Float32Array pixel outside 0..255 is refused, naming the image, the index and the value', async () => {
  for (const [value, text] of [
    [-1000, '-1000'],
    [3.4e38, '3.3999999521443642e+38'],
    [255.5, '255.5'],
    [-0.25, '-0.25'],
  ] as const) {
    const image = Float32Array.from(good);
    image[40] = value;
    await assert.rejects(
      classifier.classify([good, image]),
      failsWith(
        InferInputError,
        new RegExp(
          `^images\\[1\\]\\[40\\]: expected a finite pixel value \\(0\\.\\.255\\), received "${text.replace(/[.+]/g, '\\$&')}"$`,
        ),
      ),
    );
  }
  // Fractions inside the range are pixels (a resized image may hold them).
  const fractional = Float32Array.from(good, (v) => Math.min(255, v + 0.5));
  fractional[0] = 0;
  fractional[1] = 255;
  assert.equal((await classifier.logits(fractional)).length, 1);
});

test('topK out of range states the allowed range', async () => {
  for (const topK of [0, 11, 1.5, -1, Number.NaN]) {
    await assert.rejects(
      classifier.classify(good, { topK }),
      failsWith(InferInputError, /^topK: expected an integer from 1 to 10 \(the number of classes\), received /),
    );
  }
});

test('an unknown layout lists the allowed ones', async () => {
  await assert.rejects(
    classifier.classify(good, { layout: 'NHWC' as 'HWC' }),
    failsWith(InferInputError, /layout: expected "HWC" or "CHW", received "NHWC"/),
  );
});

test('input errors are DepthfoldInputErrors with field, expected and received', async () => {
  await assert.rejects(classifier.classify(good, { topK: 0 }), (e: unknown) => {
    assert.ok(e instanceof DepthfoldInputError);
    assert.equal(e.name, 'InferInputError');
    assert.equal(e.field, 'topK');
    assert.equal(e.received, '0');
    return true;
  });
});

test('a file that is not ONNX is refused, naming the file', async () => {
  const file = tempFile('not-a-model.onnx', 'this is not a model\n');
  try {
    await assert.rejects(load(file.path), failsWith(DepthfoldInputError, /not-a-model\.onnx.*expected an ONNX model/));
    await assert.rejects(
      load(new TextEncoder().encode('{"not": "onnx"}')),
      failsWith(DepthfoldInputError, /\(model bytes\).*expected an ONNX model/),
    );
  } finally {
    file.cleanup();
  }
});

test('an ONNX model without depthfold metadata is refused, naming the missing entry', async () => {
  const checkpoint = randomCheckpoint();
  const model = buildModel(checkpoint, metadataFor(checkpoint), { folded: true });
  const bare = encodeModel({ ...model, metadata_props: [] });
  await assert.rejects(
    load(bare),
    failsWith(DepthfoldInputError, /metadata_props\.formatVersion: expected a depthfold metadata entry/),
  );
});

test('a missing file and a model of the wrong type are refused', async () => {
  await assert.rejects(
    load('/nonexistent/model.onnx'),
    failsWith(InferInputError, /^model: expected a readable \.onnx file, received ".*ENOENT.*"$/),
  );
  await assert.rejects(
    load(42 as unknown as string),
    failsWith(
      InferInputError,
      /model: expected a path \(string\) or the bytes of an \.onnx file \(Uint8Array\), received "number"/,
    ),
  );
});

test('metadata naming an input or output the graph lacks is refused, listing the graph names', async () => {
  const checkpoint = randomCheckpoint();
  const model = buildModel(checkpoint, metadataFor(checkpoint), { folded: true });
  const rename = (key: string, name: string): Uint8Array =>
    encodeModel({
      ...model,
      metadata_props: model.metadata_props!.map((p) =>
        p.key === key ? { key, value: JSON.stringify({ ...JSON.parse(p.value!), name }) } : p,
      ),
    });
  await assert.rejects(
    load(rename('input', 'pixels')),
    failsWith(
      InferInputError,
      /^model \(model bytes\): metadata\.input\.name: expected a graph input \(input\), received "pixels"$/,
    ),
  );
  await assert.rejects(
    load(rename('output', 'probs')),
    failsWith(InferInputError, /output\.name: expected a graph output \(logits\), received "probs"/),
  );
});
