// The web entry, run in Node on onnxruntime-web's WebAssembly build (Node has no WebGPU): the same logits as the
// Node entry, devices through the web row of the table, auto's recorded WebGPU failure, ImageData input (of any size
// where the model resizes, as Node's raw RGBA images), models fetched by URL from a loopback server, and the thread
// count that the page's isolation allows. Decoding in a real browser is tested by packages/demo's browser tests.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { load as loadNode } from '../src/node/index.js';
import {
  detectEnvironment,
  InferDeviceError,
  InferInputError,
  load,
  webEnvironment,
  type Classifier,
  type Device,
} from '../src/web/index.js';
import type { RgbaImage } from '../src/common/index.js';
import { fixtureModelBytes, INPUT, resizingModelBytes } from './fixtures.js';
import { encodePng } from '@depthfold/testing';
import { failsWith, hwcToChw, randomImage, randomSamples } from './helpers.js';

const bytes = fixtureModelBytes();
const images = [randomImage(1), randomImage(2), randomImage(3)];
let web: Classifier;
let server: ReturnType<typeof createServer>;
let base = '';

/** The pixels of an HWC RGB image as RGBA with alpha `alpha(k)` at pixel k (opaque by default). */
function toRgba(image: Uint8Array, alpha: (k: number) => number = () => 255): RgbaImage {
  const { height, width } = INPUT;
  const data = new Uint8ClampedArray(width * height * 4);
  for (let k = 0; k < width * height; k++)
    data.set([image[3 * k]!, image[3 * k + 1]!, image[3 * k + 2]!, alpha(k)], 4 * k);
  return { data, width, height };
}

function assertClose(actual: Float32Array[], expected: Float32Array[], tolerance: number): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((row, i) =>
    row.forEach((v, j) =>
      assert.ok(Math.abs(v - expected[i]![j]!) < tolerance, `image ${i} class ${j}: ${v} vs ${expected[i]![j]!}`),
    ),
  );
}

before(async () => {
  web = await load(bytes, { device: 'wasm' });
  server = createServer((req, res) => {
    if (req.url === '/model.onnx') res.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end(bytes);
    else res.writeHead(404, 'Not Found').end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  await web.dispose();
  await new Promise((resolve) => server.close(resolve));
});

test('wasm runs on the WebAssembly provider with 1 thread outside an isolated page', () => {
  assert.equal(web.info.device, 'wasm');
  assert.equal(web.info.provider, 'wasm');
  assert.deepEqual(web.info.fallbacks, []);
  assert.equal(web.info.wasmThreads, 1);
  assert.equal(webEnvironment().crossOriginIsolated, false);
});

test('the web entry gives the logits of the Node entry', async () => {
  const node = await loadNode(bytes, { device: 'cpu' });
  try {
    assertClose(await web.logits(images), await node.logits(images), 1e-5);
    assert.equal(node.info.wasmThreads, undefined, 'Node reports no wasm threads');
  } finally {
    await node.dispose();
  }
});

test('an opaque ImageData gives the logits of its RGB pixels, in either layout and mixed with raw pixels', async () => {
  const rgba = images.map((image) => toRgba(image));
  const expected = await web.logits(images);
  assertClose(await web.logits(rgba), expected, 1e-6);
  assertClose(await web.logits([rgba[0]!, images[1]!, rgba[2]!]), expected, 1e-6);
  assertClose(await web.logits([rgba[0]!, hwcToChw(images[1]!), rgba[2]!], { layout: 'CHW' }), expected, 1e-6);
  const [top] = await web.classify(rgba[0]!, { topK: 2 });
  assert.equal(top?.top.length, 2);
});

test("a translucent ImageData is flattened onto the model's background (black here): round(c a / 255)", async () => {
  const alpha = (k: number) => (k * 53) % 256;
  const flattened = Uint8Array.from(images[0]!, (c, i) => Math.round((c * alpha(Math.floor(i / 3))) / 255));
  assert.deepEqual((await web.preprocess(toRgba(images[0]!, alpha)))[0], flattened);
  assertClose(await web.logits(toRgba(images[0]!, alpha)), await web.logits(flattened), 1e-6);
});

test('ImageData of any size, where the model resizes, gives the logits of Node on the same RGBA pixels', async () => {
  const resizing = resizingModelBytes();
  const [w, n] = [await load(resizing, { device: 'wasm' }), await loadNode(resizing, { device: 'cpu' })];
  try {
    const data = randomSamples(17 * 9 * 4, 12);
    const imageData: RgbaImage = { data: new Uint8ClampedArray(data), width: 17, height: 9 };
    const [seen] = await w.preprocess(imageData);
    assert.deepEqual(seen, (await n.preprocess({ width: 17, height: 9, channels: 4, data }))[0]);
    assert.deepEqual(seen, (await n.preprocess({ encoded: encodePng(17, 9, 4, data) }))[0], 'as the PNG decodes');
    assertClose(await w.logits(imageData), await n.logits({ encoded: encodePng(17, 9, 4, data) }), 1e-5);
    // Encoded images are the browser's to decode: Node has no createImageBitmap.
    await assert.rejects(
      w.classify({ encoded: encodePng(17, 9, 4, data) }),
      /^Error: images\[0\]: decoding an image needs createImageBitmap, which this environment lacks$/,
    );
  } finally {
    await Promise.all([w.dispose(), n.dispose()]);
  }
});

test("an ImageData of another size than an 'exact' model's names the sizes", async () => {
  const wrong: RgbaImage = { data: new Uint8ClampedArray(4 * 6 * 4), width: 4, height: 6 };
  await assert.rejects(
    web.classify([toRgba(images[0]!), wrong]),
    failsWith(
      InferInputError,
      /^images\[1\]: expected an image of 5x6 \(width x height\): the model's preprocessing is resize 'exact', which resizes nothing, received "4x6"$/,
    ),
  );
  await assert.rejects(
    web.classify(new Int32Array(90) as unknown as Uint8Array),
    failsWith(
      InferInputError,
      /an ImageData, an HTMLImageElement, an ImageBitmap or a canvas, received "Int32Array\(90\)"/,
    ),
  );
  await assert.rejects(
    web.classify('photo.png' as unknown as Uint8Array),
    failsWith(InferInputError, /^images\[0\]: expected .*, received "string"$/),
  );
});

test('cpu is WebAssembly on the web', async () => {
  const c = await load(bytes, { device: 'cpu' });
  try {
    assert.deepEqual([c.info.device, c.info.provider], ['cpu', 'wasm']);
  } finally {
    await c.dispose();
  }
});

test('auto records why WebGPU did not start, then runs WebAssembly', async () => {
  const c = await load(bytes);
  try {
    assert.deepEqual([c.info.device, c.info.provider], ['wasm', 'wasm'], 'auto is the web default');
    assert.equal(c.info.fallbacks.length, 1);
    assert.equal(c.info.fallbacks[0]!.device, 'webgpu');
    assert.match(c.info.fallbacks[0]!.reason, /WebGPU is not available here \(navigator\.gpu is undefined\)/);
  } finally {
    await c.dispose();
  }
});

test('webgpu without WebGPU fails, naming the reason and the devices available', async () => {
  await assert.rejects(load(bytes, { device: 'webgpu' }), (error: unknown) => {
    assert.ok(error instanceof InferDeviceError);
    assert.deepEqual(error.available, ['auto', 'cpu', 'wasm']);
    assert.match(
      error.message,
      /^device "webgpu" could not start a session\. Tried webgpu \(provider webgpu\): WebGPU is not available here .*\. Other devices available here \(not tried\): "auto", "cpu", "wasm"$/,
    );
    return true;
  });
});

test('cuda is not a web device; the error lists the web devices', async () => {
  await assert.rejects(
    load(bytes, { device: 'cuda' }),
    failsWith(
      InferInputError,
      /^device: expected one of the devices available in web: "auto", "webgpu", "cpu", "wasm", received "cuda"$/,
    ),
  );
  await assert.rejects(
    load(bytes, { device: 'gpu' as Device }),
    failsWith(InferInputError, /^device: expected one of "auto", "cuda", "webgpu", "cpu", "wasm"/),
  );
});

test('a model URL is fetched (string or URL); a failed fetch names the URL and the status', async () => {
  for (const url of [`${base}/model.onnx`, new URL('/model.onnx', base)]) {
    const c = await load(url, { device: 'wasm' });
    try {
      assertClose(await c.logits(images[0]!), await web.logits(images[0]!), 1e-6);
    } finally {
      await c.dispose();
    }
  }
  await assert.rejects(
    load(`${base}/missing.onnx`, { device: 'wasm' }),
    failsWith(
      InferInputError,
      /^model: expected a URL that serves an \.onnx file, received "http:\/\/127\.0\.0\.1:\d+\/missing\.onnx: HTTP 404 Not Found"$/,
    ),
  );
  await assert.rejects(
    load('http://127.0.0.1:1/model.onnx', { device: 'wasm' }),
    failsWith(
      InferInputError,
      /^model: expected a URL that serves an \.onnx file, received "http:\/\/127\.0\.0\.1:1\/model\.onnx: fetch failed"$/,
    ),
  );
});

test('threads: min(4, cores) on a cross-origin isolated page, 1 elsewhere; WebGPU where navigator.gpu exists', () => {
  const isolated = (cores: number) =>
    detectEnvironment({ crossOriginIsolated: true, navigator: { hardwareConcurrency: cores } });
  assert.equal(isolated(2).wasmThreads, 2);
  assert.equal(isolated(3).wasmThreads, 3);
  assert.equal(isolated(16).wasmThreads, 4);
  assert.equal(
    detectEnvironment({ crossOriginIsolated: false, navigator: { hardwareConcurrency: 16 } }).wasmThreads,
    1,
  );
  assert.equal(detectEnvironment({ crossOriginIsolated: true }).wasmThreads, 1, 'no navigator: 1 core');
  assert.equal(detectEnvironment({ navigator: { gpu: {} } }).webgpu, true);
  assert.equal(detectEnvironment({}).webgpu, false);
  assert.ok(Object.isFrozen(webEnvironment()));
});
