// Triton's statistics extension (GET /v2/models/{name}/stats) and Prometheus metrics (GET /metrics) against what
// was sent: successes and failures by protocol, rows and ORT calls, queue and compute durations, batch sizes.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  credentials,
  loadPackageDefinition,
  type GrpcObject,
  type ServiceClientConstructor,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { loadServedModel, PROTO_PATH, startServer, type InferenceServer } from '../src/index.js';
import { fixtureModelFile, MODEL_NAME, randomInput } from './fixtures.js';
import { assertError, call, fp32Request, postJson } from './helpers.js';

let fixture: Awaited<ReturnType<typeof fixtureModelFile>>;
let server: InferenceServer;

before(async () => {
  fixture = await fixtureModelFile();
  server = await startServer(await loadServedModel(fixture.path, { batchDelayMs: 30, maxBatch: 8 }), {
    port: 0,
    grpcPort: 0,
  });
});
after(async () => {
  await server.close();
  await fixture.cleanup();
});

interface Duration {
  count: number;
  ns: number;
}
interface Stats {
  model_stats: {
    name: string;
    version: string;
    last_inference: number;
    inference_count: number;
    execution_count: number;
    inference_stats: Record<
      'success' | 'fail' | 'queue' | 'compute_input' | 'compute_infer' | 'compute_output',
      Duration
    >;
    batch_stats: { batch_size: number; compute_infer: Duration }[];
  }[];
}

const MODEL_LABELS = `model="${MODEL_NAME}",version="1"`;

/** A sample's value from Prometheus text, e.g. `metric('depthfold_queue_depth')`; undefined when absent. */
function metric(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

test('stats and metrics count what was sent over HTTP and gRPC', async () => {
  const infer = `${server.url}/v2/models/${MODEL_NAME}/infer`;
  const t0 = Date.now();
  // Six good requests at once (one of 2 rows), so that some share an ORT call; two bad ones.
  const good = await Promise.all(
    [1, 1, 1, 1, 2, 1].map((rows, i) => postJson(infer, fp32Request(randomInput(rows, 50 + i), rows))),
  );
  for (const reply of good) assert.equal(reply.status, 200, reply.text);
  assertError(await postJson(infer, fp32Request(randomInput(1, 60), 2)), 400, /inputs\[0\]\.data/);
  assertError(await call(infer, { method: 'POST', body: '{' }), 400, /invalid JSON/);
  // One good and one bad over gRPC.
  const definition = loadSync(PROTO_PATH, { keepCase: true, longs: Number, defaults: true, oneofs: true });
  const Client = (loadPackageDefinition(definition).inference as GrpcObject)
    .GRPCInferenceService as ServiceClientConstructor;
  const client = new Client(`127.0.0.1:${server.grpcPort}`, credentials.createInsecure());
  const grpcInfer = (request: unknown): Promise<ServiceError | null> =>
    new Promise((resolve) =>
      (client.ModelInfer as (r: unknown, cb: (e: ServiceError | null) => void) => void).call(client, request, (e) =>
        resolve(e),
      ),
    );
  const tensor = { name: 'input', datatype: 'FP32', shape: [1, 1, 28, 28] };
  assert.equal(
    await grpcInfer({
      model_name: MODEL_NAME,
      inputs: [{ ...tensor, contents: { fp32_contents: Array.from(randomInput(1, 61)) } }],
    }),
    null,
  );
  assert.notEqual(
    await grpcInfer({ model_name: MODEL_NAME, inputs: [{ ...tensor, contents: { fp32_contents: [1] } }] }),
    null,
  );
  client.close();

  const reply = await call(`${server.url}/v2/models/${MODEL_NAME}/stats`);
  assert.equal(reply.status, 200, reply.text);
  const [s] = (reply.json as Stats).model_stats;
  assert.ok(s);
  assert.equal(s.name, MODEL_NAME);
  assert.equal(s.version, '1');
  assert.equal(s.inference_count, 8, 'rows: 1+1+1+1+2+1 over HTTP, 1 over gRPC');
  assert.equal(s.inference_stats.success.count, 7);
  assert.equal(s.inference_stats.fail.count, 3);
  assert.equal(s.inference_stats.queue.count, 7);
  assert.equal(s.inference_stats.compute_infer.count, 7);
  for (const key of ['success', 'fail', 'queue', 'compute_infer'] as const)
    assert.ok(s.inference_stats[key].ns > 0, key);
  assert.ok(s.inference_stats.success.ns >= s.inference_stats.compute_infer.ns / 8, 'a success includes its compute');
  assert.ok(s.last_inference >= t0 && s.last_inference <= Date.now());
  assert.equal(
    s.batch_stats.reduce((n, b) => n + b.compute_infer.count, 0),
    s.execution_count,
  );
  assert.equal(
    s.batch_stats.reduce((n, b) => n + b.batch_size * b.compute_infer.count, 0),
    s.inference_count,
  );
  assert.ok(s.execution_count < 7, `the concurrent requests shared calls (${s.execution_count} calls)`);
  assert.deepEqual((await call(`${server.url}/v2/models/${MODEL_NAME}/versions/1/stats`)).json, reply.json);

  const scraped = await call(`${server.url}/metrics`);
  assert.equal(scraped.status, 200);
  assert.match(scraped.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = scraped.text;
  assert.equal(
    metric(
      text,
      'depthfold_inference_requests_total',
      'model="tiny-fashion",version="1",protocol="http",outcome="success"',
    ),
    6,
  );
  assert.equal(
    metric(
      text,
      'depthfold_inference_requests_total',
      'model="tiny-fashion",version="1",protocol="http",outcome="invalid"',
    ),
    2,
  );
  assert.equal(
    metric(
      text,
      'depthfold_inference_requests_total',
      'model="tiny-fashion",version="1",protocol="grpc",outcome="success"',
    ),
    1,
  );
  assert.equal(
    metric(
      text,
      'depthfold_inference_requests_total',
      'model="tiny-fashion",version="1",protocol="grpc",outcome="invalid"',
    ),
    1,
  );
  assert.equal(
    metric(
      text,
      'depthfold_inference_request_duration_seconds_count',
      'model="tiny-fashion",version="1",protocol="http"',
    ),
    8,
  );
  assert.equal(metric(text, 'depthfold_batch_size_count', MODEL_LABELS), s.execution_count);
  assert.equal(metric(text, 'depthfold_batch_size_sum', MODEL_LABELS), 8);
  assert.equal(metric(text, 'depthfold_ort_call_duration_seconds_count', MODEL_LABELS), s.execution_count);
  assert.equal(metric(text, 'depthfold_queue_duration_seconds_count', MODEL_LABELS), 7);
  assert.equal(metric(text, 'depthfold_queue_depth', MODEL_LABELS), 0);
  assert.ok((metric(text, 'depthfold_main_thread_cpu_seconds_total') ?? 0) > 0, 'main-thread CPU from /proc');
  assert.notEqual(metric(text, 'process_cpu_seconds_total'), undefined, "prom-client's process metrics");
  // Every depthfold series names its model, save the process-wide main-thread CPU.
  const series = text.split('\n').filter((l) => l.startsWith('depthfold_') && !l.startsWith('depthfold_main_thread'));
  assert.ok(series.length > 20, `${series.length} depthfold series`);
  for (const line of series) assert.match(line, /[{,]model="[^"]*",version="[^"]*"/, line);
  // The statistics of every model: this server's one, the same as its own route's.
  const all = await call(`${server.url}/v2/models/stats`);
  assert.equal(all.status, 200, all.text);
  assert.deepEqual(all.json, reply.json);
});

test('a request for a model not served is counted under model "" (no label from request text) and fails no model', async () => {
  const before = (await call(`${server.url}/v2/models/${MODEL_NAME}/stats`)).json as Stats;
  const names = ['ghost-1', 'ghost-2', 'ghost-3'];
  for (const name of names)
    assertError(
      await postJson(`${server.url}/v2/models/${name}/infer`, fp32Request(randomInput(1, 70), 1)),
      404,
      /not found/,
    );
  const text = (await call(`${server.url}/metrics`)).text;
  for (const name of names) assert.ok(!text.includes(name), `no series names ${name}`);
  assert.ok(
    (metric(text, 'depthfold_inference_requests_total', 'model="",version="",protocol="http",outcome="not_found"') ??
      0) >= 3,
  );
  const after = (await call(`${server.url}/v2/models/${MODEL_NAME}/stats`)).json as Stats;
  assert.equal(after.model_stats[0]!.inference_stats.fail.count, before.model_stats[0]!.inference_stats.fail.count);
});

test('stats of an unknown model or version is 404; /metrics and /v2/models/stats take GET only', async () => {
  assertError(await call(`${server.url}/v2/models/nope/stats`), 404, /model "nope" not found/);
  assertError(await call(`${server.url}/v2/models/${MODEL_NAME}/versions/9/stats`), 404, /has no version "9"/);
  assertError(await call(`${server.url}/v2/models/stats`, { method: 'POST' }), 405, /method POST is not allowed/);
  const reply = await call(`${server.url}/metrics`, { method: 'POST' });
  assertError(reply, 405, /method POST is not allowed on \/metrics/);
});
