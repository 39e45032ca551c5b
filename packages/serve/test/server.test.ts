// The server on loopback (random port) through fetch: every endpoint, the error matrix (400, 404, 405, 413,
// 503), dynamic batching whose answers match ORT run directly, UINT8 input matching @depthfold/infer.
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, test } from 'node:test';
import { load } from '@depthfold/infer';
import { InferenceSession } from 'onnxruntime-node';
import { loadServedModel, type ServedModel, startServer, type InferenceServer } from '../src/index.js';
import { fixtureModelFile, IMAGE_SIZE, MODEL_NAME, randomInput, randomPixels } from './fixtures.js';
import {
  assertError,
  assertLogitsMatch,
  call,
  directLogits,
  fp32Request,
  postJson,
  replyLogits,
  rowsOf,
} from './helpers.js';

let fixture: Awaited<ReturnType<typeof fixtureModelFile>>;
let server: InferenceServer;
let model: ServedModel;
let session: InferenceSession;
let base: string;
let infer: string;
const MAX_BODY = 200_000;

before(async () => {
  fixture = await fixtureModelFile();
  model = await loadServedModel(fixture.path, { batchDelayMs: 20, maxBatch: 16 });
  server = await startServer(model, { port: 0, maxBodyBytes: MAX_BODY });
  base = `${server.url}/v2`;
  infer = `${base}/models/${MODEL_NAME}/infer`;
  session = await InferenceSession.create(fixture.path);
});

after(async () => {
  await server.close();
  await session.release();
  await fixture.cleanup();
});

test('binds loopback by default', () => {
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
});

test('health: live and ready answer 200 with an empty body; HEAD works too', async () => {
  for (const path of [
    '/health/live',
    '/health/ready',
    `/models/${MODEL_NAME}/ready`,
    `/models/${MODEL_NAME}/versions/1/ready`,
  ]) {
    const reply = await call(`${base}${path}`);
    assert.equal(reply.status, 200, path);
    assert.equal(reply.text, '');
  }
  assert.equal((await call(`${base}/health/ready`, { method: 'HEAD' })).status, 200);
});

test('server metadata names the server, its version and the extensions it implements', async () => {
  const reply = await call(base);
  assert.equal(reply.status, 200);
  assert.deepEqual(reply.json, {
    name: 'depthfold',
    version: '0.1.0',
    extensions: [
      'classification',
      'binary_tensor_data',
      'statistics',
      'model_repository',
      'model_repository(unload_dependents)',
      'model_configuration',
    ],
  });
  assert.deepEqual((await call(`${base}/`)).json, reply.json);
});

test('model metadata: name, version, platform, tensors with -1 batch, and our labels', async () => {
  const reply = await call(`${base}/models/${MODEL_NAME}`);
  assert.equal(reply.status, 200);
  assert.deepEqual(reply.json, {
    name: MODEL_NAME,
    versions: ['1'],
    platform: 'onnxruntime_onnx',
    inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 1, 28, 28] }],
    outputs: [{ name: 'logits', datatype: 'FP32', shape: [-1, 10] }],
    depthfold: {
      labels: [
        'T-shirt/top',
        'Trouser',
        'Pullover',
        'Dress',
        'Coat',
        'Sandal',
        'Shirt',
        'Sneaker',
        'Bag',
        'Ankle boot',
      ],
      input_datatypes: ['FP32', 'UINT8', 'BYTES'],
      normalization: { mean: [0.5], std: [0.25] },
      max_batch_size: 16,
      // A model of the built-in datasets takes images of its own size only (resize 'exact').
      images: {
        shape: [-1, 1],
        formats: ['png', 'jpeg', 'webp', 'gif', 'tiff'],
        max_pixels: 16777216,
        preprocessing: {
          resize: 'exact',
          interpolation: 'bilinear',
          cropFraction: 1,
          colour: 'grey',
          background: [0, 0, 0],
        },
      },
    },
  });
  assert.deepEqual((await call(`${base}/models/${MODEL_NAME}/versions/1`)).json, reply.json);
});

test('FP32 inference returns the logits ORT gives for the same rows, and echoes the id', async () => {
  const input = randomInput(3, 1);
  const reply = await postJson(infer, fp32Request(input, 3, { id: 'req-42' }));
  assert.equal(reply.status, 200, reply.text);
  const body = reply.json as {
    model_name: string;
    model_version: string;
    id: string;
    outputs: { name: string; datatype: string; shape: number[] }[];
  };
  assert.equal(body.model_name, MODEL_NAME);
  assert.equal(body.model_version, '1');
  assert.equal(body.id, 'req-42');
  assert.deepEqual(
    body.outputs.map(({ name, datatype, shape }) => ({ name, datatype, shape })),
    [{ name: 'logits', datatype: 'FP32', shape: [3, 10] }],
  );
  assertLogitsMatch(replyLogits(reply), await directLogits(session, input, 3));
  const versioned = await postJson(`${base}/models/${MODEL_NAME}/versions/1/infer`, fp32Request(input, 3));
  assert.equal(versioned.status, 200);
  assert.equal((versioned.json as { id?: string }).id, undefined, 'no id in, no id out');
});

test('classification returns "value:index:label" strings, highest first, shape [N, K]', async () => {
  const input = randomInput(2, 2);
  const reply = await postJson(
    infer,
    fp32Request(input, 2, { outputs: [{ name: 'logits', parameters: { classification: 3 } }] }),
  );
  assert.equal(reply.status, 200, reply.text);
  const out = (reply.json as { outputs: { name: string; datatype: string; shape: number[]; data: string[] }[] })
    .outputs[0]!;
  assert.equal(out.name, 'logits');
  assert.equal(out.datatype, 'BYTES');
  assert.deepEqual(out.shape, [2, 3]);
  const expected = await directLogits(session, input, 2);
  const labels = (await call(`${base}/models/${MODEL_NAME}`)).json as { depthfold: { labels: string[] } };
  for (let r = 0; r < 2; r++) {
    const row = Array.from(expected.subarray(r * 10, r * 10 + 10));
    const order = row.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    out.data.slice(r * 3, r * 3 + 3).forEach((entry, j) => {
      const [value, index, label] = entry.split(':');
      assert.equal(Number(index), order[j]![1]);
      assert.ok(Math.abs(Number(value) - order[j]![0]) < 1e-5);
      assert.equal(label, labels.depthfold.labels[Number(index)]);
    });
  }
});

test('UINT8 pixels give the logits @depthfold/infer computes from the same pixels', async () => {
  const pixels = randomPixels(2, 3);
  const reply = await postJson(infer, {
    inputs: [{ name: 'input', shape: [2, 1, 28, 28], datatype: 'UINT8', data: Array.from(pixels) }],
  });
  assert.equal(reply.status, 200, reply.text);
  const classifier = await load(fixture.path);
  try {
    const images = [pixels.subarray(0, IMAGE_SIZE), pixels.subarray(IMAGE_SIZE)];
    const expected = await classifier.logits(images, { layout: 'CHW' });
    assertLogitsMatch(replyLogits(reply), Float32Array.from(expected.flatMap((l) => Array.from(l))));
  } finally {
    await classifier.dispose();
  }
});

test('concurrent requests are batched into few ORT calls and each answer matches ORT on its own rows', async () => {
  const before = model.batcher.stats;
  const sizes = [1, 2, 1, 3, 1, 1, 2, 1, 1, 1, 2, 1, 1, 1, 1, 3];
  const total = sizes.reduce((a, b) => a + b, 0);
  const input = randomInput(total, 4);
  const offsets = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0));
  const replies = await Promise.all(
    sizes.map((rows, i) => postJson(infer, fp32Request(rowsOf(input, offsets[i]!, rows), rows, { id: `c${i}` }))),
  );
  const expected = await directLogits(session, input, total);
  replies.forEach((reply, i) => {
    assert.equal(reply.status, 200, reply.text);
    assert.equal((reply.json as { id: string }).id, `c${i}`);
    assertLogitsMatch(replyLogits(reply), expected.slice(offsets[i]! * 10, (offsets[i]! + sizes[i]!) * 10));
  });
  const after = model.batcher.stats;
  const calls = after.batches - before.batches;
  assert.equal(after.requests - before.requests, sizes.length);
  assert.ok(calls < sizes.length / 2, `${sizes.length} requests took ${calls} ORT calls`);
  assert.ok(after.largestBatch > 3, `largest batch ${after.largestBatch}`);
});

test('400: malformed bodies and requests that do not fit the model name the field', async () => {
  const good = fp32Request(randomInput(1, 5), 1) as { inputs: Record<string, unknown>[] };
  const withInput = (patch: Record<string, unknown>): unknown => ({ inputs: [{ ...good.inputs[0], ...patch }] });
  const cases: [RequestInit, RegExp][] = [
    [{ body: '{"inputs": [' }, /request body: expected a JSON inference request, received invalid JSON/],
    [{ body: '' }, /received an empty body/],
    [{ body: '"hello"' }, /\(root\): expected an inference request object/],
    [{ body: JSON.stringify(withInput({ datatype: 'INT64' })) }, /inputs\[0\]\.datatype: expected "FP32"/],
    [{ body: JSON.stringify(withInput({ shape: [1, 1, 28] })) }, /inputs\[0\]\.shape: expected \[N, 1, 28, 28\]/],
    [{ body: JSON.stringify(withInput({ shape: [17, 1, 28, 28] })) }, /N from 1 to 16/],
    [
      { body: JSON.stringify(withInput({ shape: [2, 1, 28, 28] })) },
      /inputs\[0\]\.data: expected 1568 elements \(shape \[2, 1, 28, 28\]\), received 784/,
    ],
    [
      { body: JSON.stringify(withInput({ name: 'pixels' })) },
      /inputs\[0\]\.name: expected "input" \(the model's only input\), received "pixels"/,
    ],
    [
      { body: JSON.stringify({ ...good, outputs: [{ name: 'probabilities' }] }) },
      /outputs\[0\]\.name: expected "logits"/,
    ],
    [
      { body: `{"inputs":[{"name":"input","shape":[1,1,28,28],"datatype":"FP32","data":[1e999${',0'.repeat(783)}]}]}` },
      /inputs\[0\]\.data\[0\]: expected a finite FP32 number, received "Infinity"/,
    ],
    [
      { body: JSON.stringify(withInput({ data: [...Array(783).fill(0), 'NaN'] })) },
      /inputs\[0\]\.data\[783\]: expected a finite FP32 number, received "NaN"/,
    ],
  ];
  for (const [init, pattern] of cases) assertError(await call(infer, { method: 'POST', ...init }), 400, pattern);
});

test('404: unknown models, versions and routes; 405 with Allow for the wrong method', async () => {
  assertError(
    await postJson(`${base}/models/resnet/infer`, fp32Request(randomInput(1, 6), 1)),
    404,
    /model "resnet" not found \(this server serves "tiny-fashion"\)/,
  );
  assertError(await call(`${base}/models/resnet`), 404, /model "resnet" not found/);
  assertError(await call(`${base}/models/resnet/ready`), 404, /not found/);
  assertError(await call(`${base}/models/${MODEL_NAME}/versions/2`), 404, /has no version "2" \(versions: "1"\)/);
  assertError(await postJson(`${base}/models/${MODEL_NAME}/versions/0/infer`, {}), 404, /has no version "0"/);
  for (const path of [
    '/',
    '/v3',
    '/v2/models',
    '/v2/health',
    '/v2/health/dead',
    `/v2/models/${MODEL_NAME}/explain`,
    `/v2/models/${MODEL_NAME}/versions`,
  ]) {
    assertError(await call(`${server.url}${path}`), 404, /no route GET .* KServe V2/);
  }
  const wrong: [string, string, string][] = [
    ['GET', infer, 'POST'],
    ['POST', `${base}/models/${MODEL_NAME}`, 'GET, HEAD'],
    ['DELETE', base, 'GET, HEAD'],
    ['PUT', `${base}/health/live`, 'GET, HEAD'],
  ];
  for (const [method, url, allow] of wrong) {
    const reply = await call(url, { method });
    assertError(reply, 405, new RegExp(`method ${method} is not allowed`));
    assert.equal(reply.headers.get('allow'), allow);
  }
});

test('413: a body over the limit, declared or streamed, and the server goes on', async () => {
  const big = JSON.stringify({
    inputs: [{ name: 'input', shape: [1, 1, 28, 28], datatype: 'FP32', data: Array(MAX_BODY / 2).fill(0) }],
  });
  assertError(
    await call(infer, { method: 'POST', body: big }),
    413,
    new RegExp(`exceeds the limit of ${MAX_BODY} bytes`),
  );
  const chunks = new TextEncoder().encode(big);
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < chunks.length; i += 16_384) controller.enqueue(chunks.subarray(i, i + 16_384));
      controller.close();
    },
  });
  assertError(
    await call(infer, { method: 'POST', body: stream, duplex: 'half' } as RequestInit),
    413,
    /more than 200000 bytes/,
  );
  // A client that asks first (Expect: 100-continue) is refused before it sends the body.
  const status = await new Promise<number>((resolve, reject) => {
    const req = httpRequest(
      infer,
      { method: 'POST', headers: { 'Content-Length': big.length, Expect: '100-continue' } },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('continue', () => reject(new Error('the server asked for an oversized body')));
    req.on('error', reject);
  });
  assert.equal(status, 413);
  assert.equal((await postJson(infer, fp32Request(randomInput(1, 7), 1))).status, 200);
});

test('503: beyond --max-queue waiting requests, a burst is refused and the rest answered', async () => {
  const queued = await loadServedModel(fixture.path, { maxQueue: 2, batchDelayMs: 300 });
  const small = await startServer(queued, { port: 0 });
  try {
    const url = `${small.url}/v2/models/${MODEL_NAME}/infer`;
    const input = randomInput(1, 8);
    const replies = await Promise.all(Array.from({ length: 8 }, () => postJson(url, fp32Request(input, 1))));
    const statuses = replies.map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 200, 503, 503, 503, 503, 503, 503]);
    const refused = replies.find((r) => r.status === 503)!;
    assertError(refused, 503, /server overloaded: 2 requests are already waiting \(--max-queue\)/);
    assert.equal(refused.headers.get('retry-after'), '1');
    assert.equal(queued.batcher.stats.refused, 6);
  } finally {
    await small.close();
  }
});
