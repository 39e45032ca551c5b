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
  assert.equal(metric(text, 'depthfold_inference_requests_total', 'protocol="http",outcome="success"'), 6);
  assert.equal(metric(text, 'depthfold_inference_requests_total', 'protocol="http",outcome="invalid"'), 2);
  assert.equal(metric(text, 'depthfold_inference_requests_total', 'protocol="grpc",outcome="success"'), 1);
  assert.equal(metric(text, 'depthfold_inference_requests_total', 'protocol="grpc",outcome="invalid"'), 1);
  assert.equal(metric(text, 'depthfold_inference_request_duration_seconds_count', 'protocol="http"'), 8);
  assert.equal(metric(text, 'depthfold_batch_size_count'), s.execution_count);
  assert.equal(metric(text, 'depthfold_batch_size_sum'), 8);
  assert.equal(metric(text, 'depthfold_ort_call_duration_seconds_count'), s.execution_count);
  assert.equal(metric(text, 'depthfold_queue_duration_seconds_count'), 7);
  assert.equal(metric(text, 'depthfold_queue_depth'), 0);
  assert.ok((metric(text, 'depthfold_main_thread_cpu_seconds_total') ?? 0) > 0, 'main-thread CPU from /proc');
  assert.notEqual(metric(text, 'process_cpu_seconds_total'), undefined, "prom-client's process metrics");
});

test('stats of an unknown model is 404; /metrics takes GET only', async () => {
  assertError(await call(`${server.url}/v2/models/nope/stats`), 404, /model "nope" not found/);
  const reply = await call(`${server.url}/metrics`, { method: 'POST' });
  assertError(reply, 405, /method POST is not allowed on \/metrics/);
});
