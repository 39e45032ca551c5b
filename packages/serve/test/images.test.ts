// Encoded images as a BYTES input, one per batch row, in JSON (base64), as binary tensor data and over gRPC, from
// fetch, Python (http.client and generated gRPC stubs) and curl: each answer equals the server's FP32 answer on the
// pixels @depthfold/images' preprocessImage makes of the same file, and @depthfold/infer's classify of it; a bad row
// is a 400 (INVALID_ARGUMENT) naming the row; a decompression bomb is refused before decoding; decoding runs off the
// event loop, on a bounded number of threads, behind a bounded queue. The metadata and config advertise the input.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { decodeImage, preprocessImage } from '@depthfold/images/node';
import { load, normalizePixelsInPlace } from '@depthfold/infer/node';
import sharp from 'sharp';
import {
  ImageDecoder,
  ImageRowError,
  type InferenceServer,
  loadServedModel,
  ModelRepository,
  OverloadedError,
  PROTO_PATH,
  type ServedModel,
  startServer,
} from '../src/index.js';
import { assertError, assertLogitsMatch, call, postJson, type Reply, replyLogits } from './helpers.js';
import {
  EXACT,
  exactSizePng,
  GREY,
  GREY_PREPROCESSING,
  lengthPrefixed,
  PHOTO,
  PHOTO_PREPROCESSING,
  seededPixels,
  type TestImage,
  writeImageModels,
  writeTestImages,
} from './image-fixtures.js';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';
const IMAGE_CLIENT = fileURLToPath(new URL('./image_client.py', import.meta.url));
const MAX_BODY = 32 * 1024 * 1024;
const DECODE_THREADS = 2;
const dir = mkdtempSync(join(tmpdir(), 'depthfold-serve-images-'));
let paths: ReturnType<typeof writeImageModels>;
let images: TestImage[];
let models: ServedModel[];
let server: InferenceServer;

before(async () => {
  paths = writeImageModels(dir);
  images = await writeTestImages(dir);
  models = [];
  for (const path of Object.values(paths)) models.push(await loadServedModel(path, { batchDelayMs: 0, maxBatch: 8 }));
  server = await startServer(ModelRepository.ofModels(models), {
    port: 0,
    grpcPort: 0,
    maxBodyBytes: MAX_BODY,
    imageDecodeThreads: DECODE_THREADS,
  });
});
after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const inferUrl = (model: string): string => `${server.url}/v2/models/${model}/infer`;

/** A JSON request of base64 images. */
function base64Request(rows: readonly Uint8Array[], shape: number[] = [rows.length], extra = {}): unknown {
  return {
    inputs: [
      {
        name: 'input',
        datatype: 'BYTES',
        shape,
        parameters: { content_type: 'base64' },
        data: rows.map((r) => Buffer.from(r).toString('base64')),
        ...extra,
      },
    ],
  };
}

/** A binary tensor data request of images, the JSON reply read. */
function postBinary(model: string, rows: readonly Uint8Array[], shape: number[] = [rows.length, 1]): Promise<Reply> {
  const data = lengthPrefixed(rows);
  const header = Buffer.from(
    JSON.stringify({
      inputs: [{ name: 'input', datatype: 'BYTES', shape, parameters: { binary_data_size: data.length } }],
    }),
  );
  return call(inferUrl(model), {
    method: 'POST',
    headers: { 'Inference-Header-Content-Length': String(header.length) },
    body: Buffer.concat([header, data]),
  });
}

type Spec = typeof PHOTO | typeof GREY;

/** What the model's preprocessing makes of `bytes`, by @depthfold/images directly: CHW pixels 0..255. */
async function preprocessedChw(bytes: Uint8Array, model: Spec): Promise<Uint8Array> {
  const preprocessing = model === PHOTO ? PHOTO_PREPROCESSING : GREY_PREPROCESSING;
  const hwc = preprocessImage(await decodeImage(bytes), preprocessing, model).data;
  const plane = model.height * model.width;
  const chw = new Uint8Array(hwc.length);
  for (let k = 0; k < plane; k++)
    for (let c = 0; c < model.channels; c++) chw[c * plane + k] = hwc[k * model.channels + c]!;
  return chw;
}

/** The logits of the server's FP32 path on the normalised pixels, and of its UINT8 path on the pixels. */
async function referenceLogits(model: Spec, pixels: Uint8Array, rows: number): Promise<[Float32Array, Float32Array]> {
  const spec = models.find((m) => m.spec.name === model.name)!.spec;
  const input = normalizePixelsInPlace(Float32Array.from(pixels), spec.input, spec.normalization);
  const shape = [rows, model.channels, model.height, model.width];
  const fp32 = await postJson(inferUrl(model.name), {
    inputs: [{ name: 'input', datatype: 'FP32', shape, data: Array.from(input) }],
  });
  const uint8 = await postJson(inferUrl(model.name), {
    inputs: [{ name: 'input', datatype: 'UINT8', shape, data: Array.from(pixels) }],
  });
  assert.equal(fp32.status, 200, fp32.text);
  assert.equal(uint8.status, 200, uint8.text);
  return [replyLogits(fp32), replyLogits(uint8)];
}

test('metadata and config advertise the BYTES input beside the FP32 tensor that Triton clients send', async () => {
  const meta = (await call(`${server.url}/v2/models/${PHOTO.name}`)).json as {
    inputs: unknown[];
    depthfold: Record<string, unknown>;
  };
  // The protocol's list is the network's tensor alone, as config.pbtxt declares it.
  assert.deepEqual(meta.inputs, [{ name: 'input', datatype: 'FP32', shape: [-1, 3, 32, 32] }]);
  assert.deepEqual(meta.depthfold.input_datatypes, ['FP32', 'UINT8', 'BYTES']);
  assert.deepEqual(meta.depthfold.images, {
    shape: [-1, 1],
    formats: ['png', 'jpeg', 'webp', 'gif', 'tiff'],
    max_pixels: 16777216,
    preprocessing: PHOTO_PREPROCESSING,
  });
  const config = (await call(`${server.url}/v2/models/${PHOTO.name}/config`)).json as {
    input: unknown[];
    parameters: Record<string, { string_value: string }>;
  };
  assert.equal(config.input.length, 1);
  assert.deepEqual(config.parameters, {
    depthfold_input_datatypes: { string_value: 'FP32,UINT8,BYTES' },
    depthfold_image_formats: { string_value: 'png,jpeg,webp,gif,tiff' },
    depthfold_max_image_pixels: { string_value: '16777216' },
    depthfold_preprocessing: { string_value: JSON.stringify(PHOTO_PREPROCESSING) },
  });
});

test('JPEG, PNG and WebP of other sizes give the FP32 answer on their preprocessed pixels, and infer classify', async () => {
  for (const model of [PHOTO, GREY]) {
    const rows = images.map((i) => i.bytes);
    const pixels = Buffer.concat(await Promise.all(rows.map((r) => preprocessedChw(r, model))));
    const [fp32, uint8] = await referenceLogits(model, pixels, rows.length);
    const json = await postJson(inferUrl(model.name), base64Request(rows));
    assert.equal(json.status, 200, json.text);
    const nested = await postJson(
      inferUrl(model.name),
      base64Request(rows, [rows.length, 1], { data: rows.map((r) => [Buffer.from(r).toString('base64')]) }),
    );
    assert.equal(nested.status, 200, nested.text);
    const binary = await postBinary(model.name, rows);
    assert.equal(binary.status, 200, binary.text);
    // The same pixels, normalised by the same arithmetic, in a batch of the same size: the same logits, to the bit.
    for (const reply of [json, nested, binary]) assert.deepEqual(replyLogits(reply), fp32, model.name);
    assert.deepEqual(uint8, fp32);
    // @depthfold/infer's Node entry on the same files: its own session, the same preprocessing.
    const classifier = await load(paths[model.name]);
    try {
      const local = await classifier.logits(images.map((i) => ({ encoded: i.bytes, name: i.name })));
      const joined = Float32Array.from(local.flatMap((row) => Array.from(row)));
      assertLogitsMatch(replyLogits(json), joined, 10, 1e-4);
    } finally {
      await classifier.dispose();
    }
  }
  // The decoded rows went through the decode threads, at most as many as asked for.
  const { decoded, threads } = server.images.stats;
  assert.ok(decoded >= 18, `decoded ${decoded}`);
  assert.ok(threads >= 1 && threads <= DECODE_THREADS, `threads ${threads}`);
});

test('Python http.client and gRPC stubs, and curl, send images as Triton clients do; each answer is the same', async () => {
  const stubs = join(dir, 'stubs');
  await run('mkdir', ['-p', stubs]);
  await run(PYTHON, [
    '-m',
    'grpc_tools.protoc',
    `-I${fileURLToPath(new URL('../proto', import.meta.url))}`,
    `--python_out=${stubs}`,
    `--grpc_python_out=${stubs}`,
    PROTO_PATH,
  ]);
  const truncated = join(dir, 'truncated.jpg');
  writeFileSync(truncated, images[0]!.bytes.subarray(0, images[0]!.bytes.length >> 1));
  const files = images.map((i) => join(dir, i.name));
  const { port, grpcPort } = server;
  const { stdout } = await run(
    PYTHON,
    [IMAGE_CLIENT, stubs, '127.0.0.1', String(port), String(grpcPort), PHOTO.name, truncated, ...files],
    { maxBuffer: 1 << 24 },
  );
  const out = JSON.parse(stdout) as {
    http_binary: { status: number; outputs: unknown[]; logits: number[] };
    http_json: { status: number; logits: number[] };
    http_bad: { status: number; body: { error: string } };
    grpc_bytes_contents: number[];
    grpc_raw: number[];
    grpc_bad: { code: string; details: string };
    grpc_parameters: Record<string, string>;
  };
  const expected = Array.from(
    replyLogits(await postJson(inferUrl(PHOTO.name), base64Request(images.map((i) => i.bytes)))),
  );
  assert.equal(out.http_binary.status, 200);
  assert.deepEqual(out.http_binary.outputs, [
    { name: 'logits', datatype: 'FP32', shape: [3, 10], parameters: { binary_data_size: 120 } },
  ]);
  assert.deepEqual(out.http_binary.logits, expected);
  assert.equal(out.http_json.status, 200);
  assert.deepEqual(out.http_json.logits.map(Math.fround), expected);
  assert.deepEqual(out.grpc_bytes_contents, expected);
  assert.deepEqual(out.grpc_raw, expected);
  const row1 =
    /\(row 1 of 3\): expected an encoded PNG, JPEG, WebP, GIF or TIFF image, received corrupt or truncated JPEG/;
  assert.equal(out.http_bad.status, 400);
  assert.match(out.http_bad.body.error, /inputs\[0\] binary data element 1 /);
  assert.match(out.http_bad.body.error, row1);
  assert.equal(out.grpc_bad.code, 'INVALID_ARGUMENT');
  assert.match(out.grpc_bad.details, /inputs\[0\]\.contents\.bytes_contents\[1\] /);
  assert.match(out.grpc_bad.details, row1);
  assert.deepEqual(out.grpc_parameters, {
    depthfold_input_datatypes: 'FP32,UINT8,BYTES',
    depthfold_image_formats: 'png,jpeg,webp,gif,tiff',
    depthfold_max_image_pixels: '16777216',
    depthfold_preprocessing: JSON.stringify(PHOTO_PREPROCESSING),
  });

  // curl: the JSON request from a file, and binary tensor data from a file.
  const curl = async (args: string[]): Promise<string> =>
    (await run('curl', ['-s', '-S', '--max-time', '60', ...args], { maxBuffer: 1 << 24 })).stdout;
  const jsonFile = join(dir, 'request.json');
  writeFileSync(jsonFile, JSON.stringify(base64Request(images.map((i) => i.bytes))));
  const viaJson = JSON.parse(
    await curl(['-H', 'Content-Type: application/json', '--data-binary', `@${jsonFile}`, inferUrl(PHOTO.name)]),
  ) as { outputs: { data: number[] }[] };
  assert.deepEqual(viaJson.outputs[0]!.data.map(Math.fround), expected);
  const data = lengthPrefixed(images.map((i) => i.bytes));
  const header = JSON.stringify({
    inputs: [{ name: 'input', datatype: 'BYTES', shape: [3, 1], parameters: { binary_data_size: data.length } }],
  });
  const binFile = join(dir, 'request.bin');
  writeFileSync(binFile, Buffer.concat([Buffer.from(header), data]));
  const viaBinary = JSON.parse(
    await curl([
      '-H',
      `Inference-Header-Content-Length: ${Buffer.byteLength(header)}`,
      '--data-binary',
      `@${binFile}`,
      inferUrl(PHOTO.name),
    ]),
  ) as { outputs: { data: number[] }[] };
  assert.deepEqual(viaBinary.outputs[0]!.data.map(Math.fround), expected);
});

test('a corrupt, truncated, empty or non-image row is a 400 naming the row, in JSON and binary', async () => {
  const [jpeg, png, webp] = images.map((i) => i.bytes) as [Buffer, Buffer, Buffer];
  const pngHeaderOnly = Buffer.concat([png.subarray(0, 8), Buffer.from('garbage after the PNG signature')]);
  const cases: [string, Uint8Array, RegExp][] = [
    ['truncated JPEG', jpeg.subarray(0, jpeg.length >> 1), /received corrupt or truncated JPEG: /],
    ['truncated PNG', png.subarray(0, png.length >> 1), /received corrupt or truncated PNG: /],
    ['truncated WebP', webp.subarray(0, 40), /received corrupt (or truncated )?WEBP/],
    ['a PNG signature and garbage', pngHeaderOnly, /received corrupt PNG header: /],
    ['zero bytes', new Uint8Array(0), /received empty \(0 bytes\)$/],
    [
      'a text file',
      Buffer.from('this is not an image\n'),
      /received not a PNG, JPEG, WebP, GIF or TIFF image \(it starts with "this is "\)$/,
    ],
  ];
  for (const [what, bad, reason] of cases) {
    const rows = [jpeg, bad, png];
    const json = await postJson(inferUrl(PHOTO.name), base64Request(rows));
    assertError(json, 400, /^inference request: inputs\[0\]\.data\[1\] \(row 1 of 3\): expected an encoded PNG/);
    assertError(json, 400, reason);
    const binary = await postBinary(PHOTO.name, rows);
    assertError(binary, 400, /^inference request: inputs\[0\] binary data element 1 \(row 1 of 3\): /);
    assertError(binary, 400, reason);
    assert.ok(what);
  }
  // The lowest bad row is named, whatever the timing: rows 1 and 3 bad, row 1 reported.
  const two = await postJson(inferUrl(PHOTO.name), base64Request([jpeg, pngHeaderOnly, png, pngHeaderOnly]));
  assertError(two, 400, /inputs\[0\]\.data\[1\] \(row 1 of 4\)/);
  // The server answers the next request as before.
  assert.equal((await postJson(inferUrl(PHOTO.name), base64Request([jpeg]))).status, 200);
});

test('the request itself: shape, count, content_type, base64, length prefixes, each a 400 naming the field', async () => {
  const jpeg = images[0]!.bytes;
  const b64 = jpeg.toString('base64');
  const cases: [unknown, RegExp][] = [
    [base64Request([jpeg], [1, 3, 32, 32]), /inputs\[0\]\.shape: expected \[N\] or \[N, 1\] for BYTES/],
    [base64Request([jpeg], [9]), /with N from 1 to 8 \(the max batch size\)/],
    [
      base64Request([jpeg], [2]),
      /inputs\[0\]\.data: expected 2 elements \(shape \[2\]: one encoded image per row\), received 1/,
    ],
    [
      base64Request([jpeg], [1], { parameters: {} }),
      /inputs\[0\]\.parameters\.content_type: expected "base64" \(JSON BYTES strings cannot hold an image's bytes/,
    ],
    [
      base64Request([jpeg], [1], { data: [`${b64.slice(0, 100)}!${b64.slice(101)}`] }),
      /inputs\[0\]\.data\[0\]: expected base64 \(RFC 4648/,
    ],
    [base64Request([jpeg], [1], { data: [42] }), /inputs\[0\]\.data\[0\]: expected a base64 string of an encoded/],
    [
      base64Request([jpeg], [1, 1], { data: [[b64, b64]] }),
      /inputs\[0\]\.data\[0\]: expected 1 item \(dimension 1 of shape \[1, 1\]\), received "2"/,
    ],
  ];
  for (const [body, pattern] of cases) assertError(await postJson(inferUrl(PHOTO.name), body), 400, pattern);
  // Binary: a length past the end, and fewer elements than rows.
  const data = lengthPrefixed([jpeg]);
  const binary = async (size: number, shape: number[], bytes: Buffer): Promise<Reply> => {
    const header = Buffer.from(
      JSON.stringify({
        inputs: [{ name: 'input', datatype: 'BYTES', shape, parameters: { binary_data_size: size } }],
      }),
    );
    return call(inferUrl(PHOTO.name), {
      method: 'POST',
      headers: { 'Inference-Header-Content-Length': String(header.length) },
      body: Buffer.concat([header, bytes]),
    });
  };
  const cut = data.subarray(0, data.length - 1);
  assertError(
    await binary(cut.length, [1], cut),
    400,
    new RegExp(
      `inputs\\[0\\] binary data element 0: expected at most the ${cut.length - 4} bytes left after its 4-byte length, received "a length of ${jpeg.length}"`,
    ),
  );
  assertError(
    await binary(data.length, [2], data),
    400,
    /inputs\[0\] binary data: expected 2 BYTES elements \(one encoded image per row\).*received "1"/,
  );
});

test('an image of another size than an exact model is a 400 naming the row; its own size is accepted', async () => {
  const own = await exactSizePng();
  assert.equal((await postBinary(EXACT.name, [own])).status, 200);
  assertError(
    await postBinary(EXACT.name, [own, images[0]!.bytes]),
    400,
    /inputs\[0\] binary data element 1 \(row 1 of 2\): .*received JPEG of 61x47 \(width x height\); the model's preprocessing is resize 'exact', which takes 28x28 only/,
  );
});

test('a 30000x30000 PNG bomb is refused from its header, before decoding, in bounded memory and time', async () => {
  const bomb = join(dir, 'bomb.png');
  // 900 megapixels of 1-bit black: ~110 KB of PNG, 900 MB once decoded to 8 bits.
  await run(PYTHON, ['-c', `from PIL import Image; Image.new('1', (30000, 30000)).save(${JSON.stringify(bomb)})`]);
  const { readFile } = await import('node:fs/promises');
  const bytes = await readFile(bomb);
  assert.ok(bytes.length < 1_000_000, `the bomb is ${bytes.length} bytes`);
  global.gc?.();
  const rss = process.memoryUsage().rss;
  const started = performance.now();
  const reply = await postBinary(PHOTO.name, [images[0]!.bytes, bytes]);
  const ms = performance.now() - started;
  const grown = process.memoryUsage().rss - rss;
  assertError(
    reply,
    400,
    /inputs\[0\] binary data element 1 \(row 1 of 2\): .*received PNG of 30000x30000 = 900000000 pixels is over the limit of 16777216 \(--max-image-pixels\): refused before decoding, as a possible decompression bomb/,
  );
  assert.ok(grown < 128 * 1024 * 1024, `the server grew by ${(grown / 2 ** 20).toFixed(0)} MiB`);
  assert.ok(ms < 5000, `${ms.toFixed(0)} ms`);
});

test('--max-image-pixels is per model: an image over it is refused, one under it decoded', async () => {
  const small = await loadServedModel(paths.grey, { batchDelayMs: 0, maxImagePixels: 1000, name: 'limited' });
  const limited = await startServer(small, { port: 0 });
  try {
    const meta = (await call(`${limited.url}/v2/models/limited`)).json as {
      depthfold: { images: { max_pixels: number } };
    };
    assert.equal(meta.depthfold.images.max_pixels, 1000);
    const png = (w: number, h: number) =>
      sharp(Buffer.from(seededPixels(w, h, 3, 9)), { raw: { width: w, height: h, channels: 3 } })
        .png()
        .toBuffer();
    const url = `${limited.url}/v2/models/limited/infer`;
    assert.equal((await postJson(url, base64Request([await png(40, 25)]))).status, 200, '1000 pixels');
    assertError(
      await postJson(url, base64Request([await png(40, 26)])),
      400,
      /\(row 0 of 1\): .*PNG of 40x26 = 1040 pixels is over the limit of 1000 \(--max-image-pixels\)/,
    );
  } finally {
    await limited.close();
  }
});

test('decoding a 12-megapixel photo runs off the event loop', async () => {
  const width = 4032;
  const height = 3024;
  const photo = await sharp(Buffer.from(seededPixels(width, height, 3, 11)), { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 80 })
    .toBuffer();
  assert.ok(photo.length < MAX_BODY, `${photo.length} bytes`);
  // Warm: the decode threads are started, sharp is loaded.
  assert.equal((await postBinary(PHOTO.name, [images[0]!.bytes])).status, 200);
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  const started = performance.now();
  const reply = await postBinary(PHOTO.name, [photo, photo]);
  const ms = performance.now() - started;
  delay.disable();
  assert.equal(reply.status, 200, reply.text);
  const worst = delay.max / 1e6;
  // The decode and resize of one such photo is ~0.8 s of CPU (0.3-0.6 s of it the JavaScript resize); on this
  // thread it would stall every connection that long.
  assert.ok(worst < 150, `the event loop stalled ${worst.toFixed(0)} ms during a ${ms.toFixed(0)} ms request`);
  const pixels = Buffer.concat(await Promise.all([photo, photo].map((p) => preprocessedChw(p, PHOTO))));
  const [fp32] = await referenceLogits(PHOTO, pixels, 2);
  assert.deepEqual(replyLogits(reply), fp32);
});

test('the decoder: a bounded queue (503), dropped rows after a failure, 503 for images caught by a close', {
  timeout: 120_000,
}, async () => {
  const spec = models.find((m) => m.spec.name === PHOTO.name)!.spec;
  const [jpeg, png] = images.map((i) => i.bytes) as [Buffer, Buffer];
  const corrupt = Buffer.concat([png.subarray(0, 8), Buffer.alloc(64, 1)]);
  const rows = (list: Uint8Array[]) => ({ rows: list, fields: list.map((_, i) => `rows[${i}]`) });
  const decoder = new ImageDecoder({ threads: 1, maxQueue: 4 });
  try {
    // One thread: row 0 goes to it, rows 1 and 2 wait; 2 + 3 more would pass 4.
    const first = decoder.decode(rows([jpeg, png, jpeg]), spec);
    await assert.rejects(decoder.decode(rows([jpeg, png, jpeg]), spec), (error: unknown) => {
      assert.ok(error instanceof OverloadedError);
      assert.match(
        error.message,
        /2 images are waiting to be decoded and this request adds 3, over 4 \(--max-image-queue\)/,
      );
      return true;
    });
    assert.equal((await first).length, 3 * 3 * 32 * 32);
    // Row 1 fails: rows 2 and 3 are never decoded.
    const before = decoder.stats;
    await assert.rejects(decoder.decode(rows([jpeg, corrupt, jpeg, png]), spec), (error: unknown) => {
      assert.ok(error instanceof ImageRowError, String(error));
      assert.equal(error.row, 1);
      assert.equal(error.failure, 'corrupt');
      return true;
    });
    const after = decoder.stats;
    assert.equal(after.decoded - before.decoded, 1);
    assert.equal(after.refused - before.refused, 1);
    assert.equal(after.queued, 0);
    assert.equal(after.threads, 1);
    // A close answers what is queued or decoding.
    const pending = assert.rejects(decoder.decode(rows([jpeg, png]), spec), /server is shutting down/);
    await decoder.close();
    await pending;
    await assert.rejects(decoder.decode(rows([jpeg]), spec), /server is shutting down/);
  } finally {
    await decoder.close();
  }
});
