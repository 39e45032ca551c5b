// Issue 13's hostile requests against the server: JSON nested past any tensor's depth (was a 500 from a stack
// overflow), input whose logits overflow (was a 200 of nulls), clients that send slowly or stay idle (held the
// connection for 42 s), and requests on a kept-alive connection during a graceful close (were reset).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { loadServedModel, startServer, type InferenceServer } from '../src/index.js';
import { fixtureModelFile, MODEL_NAME, randomInput } from './fixtures.js';
import { assertError, call, fp32Request, postJson } from './helpers.js';
import { rawConnection, requestText } from './raw-http.js';

let fixture: Awaited<ReturnType<typeof fixtureModelFile>>;
let server: InferenceServer;
let infer: string;
const PATH = `/v2/models/${MODEL_NAME}/infer`;
const TIMEOUTS = { headersTimeoutMs: 600, bodyTimeoutMs: 500, keepAliveTimeoutMs: 400 };

before(async () => {
  fixture = await fixtureModelFile();
  server = await startServer(await loadServedModel(fixture.path, { batchDelayMs: 0 }), {
    port: 0,
    maxBodyBytes: 1_000_000,
    ...TIMEOUTS,
  });
  infer = `${server.url}${PATH}`;
});

after(async () => {
  await server.close();
  await fixture.cleanup();
});

test('JSON nested 200,000 deep in id, shape or an input name is a 400 naming the limit, not a stack overflow', async () => {
  const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
  const bodies = [
    `{"id":${deep},"inputs":[]}`,
    `{"inputs":[{"name":"input","shape":${deep},"datatype":"FP32","data":[]}]}`,
    `{"inputs":[{"name":${deep},"shape":[1,1,28,28],"datatype":"FP32","data":[]}]}`,
    `{"inputs":[{"name":"input","shape":[1,1,28,28],"datatype":"FP32","data":${deep}}]}`,
    `{"parameters":${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)},"inputs":[]}`,
  ];
  for (const body of bodies)
    assertError(
      await call(infer, { method: 'POST', body }),
      400,
      /request body: expected JSON nested at most 32 deep, received deeper nesting \(at byte \d+\)/,
    );
  // Brackets inside strings are not nesting.
  const inString = await postJson(infer, fp32Request(randomInput(1, 1), 1, { id: '['.repeat(100) }));
  assert.equal(inString.status, 200, inString.text);
});

test('finite FP32 input whose logits overflow is a 400 naming the input, never a 200 with null or NaN', async () => {
  const huge = new Float32Array(784).fill(3.4e38);
  for (const extra of [{}, { outputs: [{ name: 'logits', parameters: { classification: 3 } }] }]) {
    const reply = await postJson(infer, fp32Request(huge, 1, extra));
    assertError(
      reply,
      400,
      /inputs\[0\]\.data: expected values for which the model gives finite logits .* received "values that give (NaN|-?Infinity) in row 0"/,
    );
  }
  const fine = await postJson(infer, fp32Request(randomInput(1, 2), 1));
  assert.equal(fine.status, 200);
  assert.ok(
    (fine.json as { outputs: { data: unknown[] }[] }).outputs[0]!.data.every(
      (v) => typeof v === 'number' && Number.isFinite(v),
    ),
  );
});

test('a client that sends 2 of 8000 body bytes gets 408 and is cut after --body-timeout-ms', async () => {
  const conn = await rawConnection(server.url);
  conn.write(
    `POST ${PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 8000\r\n\r\n{"`,
  );
  const ms = await conn.closed;
  assert.match(conn.received(), /^HTTP\/1\.1 408 /);
  assert.match(
    conn.received(),
    /request body: expected it within 500 ms \(--body-timeout-ms\), received 2 of 8000 bytes/,
  );
  assert.ok(ms >= 450 && ms < 2500, `cut after ${ms.toFixed(0)} ms`);
});

test('a client that never finishes its headers is cut after --headers-timeout-ms', async () => {
  const conn = await rawConnection(server.url);
  conn.write(`POST ${PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n`);
  const ms = await conn.closed;
  assert.ok(ms >= 550 && ms < 2600, `cut after ${ms.toFixed(0)} ms`);
});

test('an idle kept-alive connection is closed after --keep-alive-timeout-ms', async () => {
  const conn = await rawConnection(server.url);
  conn.write('GET /v2/health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  await conn.waitFor(/^HTTP\/1\.1 200 /);
  const ms = await conn.closed;
  assert.ok(ms >= 350 && ms < 2000, `closed after ${ms.toFixed(0)} ms`);
});

test('during a graceful close, a request on a kept-alive connection gets 503 with Connection: close, not a reset', async () => {
  // A long batching delay holds one request in flight while the close begins.
  const draining = await startServer(await loadServedModel(fixture.path, { batchDelayMs: 1500 }), {
    port: 0,
    keepAliveTimeoutMs: 30_000,
  });
  const conn = await rawConnection(draining.url);
  conn.write('GET /v2/health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  await conn.waitFor(/^HTTP\/1\.1 200 [\s\S]*?\r\n\r\n/);
  const inflight = postJson(`${draining.url}${PATH}`, fp32Request(randomInput(1, 3), 1, { id: 'inflight' }));
  await new Promise((r) => setTimeout(r, 300));
  const closing = draining.close();
  await new Promise((r) => setTimeout(r, 200));
  conn.write(
    requestText('POST', PATH, JSON.stringify(fp32Request(randomInput(1, 4), 1)), {
      'Content-Type': 'application/json',
    }),
  );
  const reply = await conn.waitFor(/HTTP\/1\.1 503 [\s\S]*?\r\n\r\n\{[^}]*\}/);
  assert.match(reply, /\r\nconnection: close\r\n/i);
  assert.match(reply, /server is shutting down; retry on another instance/);
  await conn.closed;
  const answered = await inflight;
  assert.equal(answered.status, 200, answered.text);
  assert.deepEqual(await closing, { clean: true, inflight: 1 });
});
