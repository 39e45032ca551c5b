// Compressed bodies and the replies every client sees, with clients that are not ours beside fetch: Python's
// http.client (which writes its whole body before reading: it must still get the 413) and curl. gzip and deflate
// requests in JSON and binary tensor data, a zip bomb that is a 413 in bounded memory, 415 for an encoding the server
// does not decode, replies compressed as Accept-Encoding asks, and CONNECT or an unknown method answered, not cut.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { deflateRawSync, deflateSync, gunzipSync, gzipSync, inflateSync } from 'node:zlib';
import { after, before, test } from 'node:test';
import { type InferenceServer, loadServedModel, replyEncoding, startServer } from '../src/index.js';
import { fixtureModelFile, MODEL_NAME, randomInput } from './fixtures.js';
import { assertError, call, fp32Request, postJson, replyLogits } from './helpers.js';
import { rawConnection } from './raw-http.js';

const PYTHON = '/usr/bin/python3';
const PYTHON_CLIENT = fileURLToPath(new URL('./http_client.py', import.meta.url));
const MAX_BODY = 1_000_000;
let fixture: Awaited<ReturnType<typeof fixtureModelFile>>;
let server: InferenceServer;
let infer: string;
let scratch: string;

before(async () => {
  fixture = await fixtureModelFile();
  server = await startServer(await loadServedModel(fixture.path, { batchDelayMs: 0 }), {
    port: 0,
    maxBodyBytes: MAX_BODY,
  });
  infer = `${server.url}/v2/models/${MODEL_NAME}/infer`;
  scratch = await mkdtemp(join(tmpdir(), 'depthfold-http-'));
});
after(async () => {
  await server.close();
  await fixture.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

/** A raw reply: status, headers and the body's bytes as sent (not decompressed). */
function rawRequest(
  url: string,
  method: string,
  body: Buffer | undefined,
  headers: Record<string, string | number>,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('gzip and deflate (zlib or raw) request bodies, JSON and binary, give the logits of the plain request', async () => {
  const input = randomInput(2, 31);
  const json = Buffer.from(JSON.stringify(fp32Request(input, 2)));
  const plain = replyLogits(await postJson(infer, fp32Request(input, 2)));
  const encoded: [string, Buffer][] = [
    ['gzip', gzipSync(json)],
    ['x-gzip', gzipSync(json)],
    ['deflate', deflateSync(json)],
    ['deflate', deflateRawSync(json)],
    ['deflate, gzip', gzipSync(deflateSync(json))],
    ['identity', json],
  ];
  for (const [encoding, body] of encoded) {
    const reply = await call(infer, {
      method: 'POST',
      body: new Uint8Array(body),
      headers: { 'Content-Encoding': encoding },
    });
    assert.equal(reply.status, 200, `${encoding}: ${reply.text}`);
    assert.deepEqual(replyLogits(reply), plain, encoding);
  }
  // Binary tensor data: Inference-Header-Content-Length counts the uncompressed JSON header.
  const header = Buffer.from(
    JSON.stringify({
      inputs: [
        { name: 'input', shape: [2, 1, 28, 28], datatype: 'FP32', parameters: { binary_data_size: input.byteLength } },
      ],
    }),
  );
  const binary = Buffer.concat([header, Buffer.from(input.buffer, input.byteOffset, input.byteLength)]);
  const reply = await call(infer, {
    method: 'POST',
    body: gzipSync(binary),
    headers: { 'Content-Encoding': 'gzip', 'Inference-Header-Content-Length': String(header.length) },
  });
  assert.equal(reply.status, 200, reply.text);
  assert.deepEqual(replyLogits(reply), plain);
});

test('415 names an encoding the server does not decode; bytes that are not what they claim are a 400', async () => {
  const body = JSON.stringify(fp32Request(randomInput(1, 32), 1));
  for (const encoding of ['br', 'zstd', 'gzip, compress']) {
    const reply = await call(infer, { method: 'POST', body, headers: { 'Content-Encoding': encoding } });
    assertError(reply, 415, /Content-Encoding: expected gzip, deflate or identity, received "(br|zstd|compress)"/);
    assert.equal(reply.headers.get('accept-encoding'), 'gzip, deflate');
  }
  assertError(
    await call(infer, { method: 'POST', body, headers: { 'Content-Encoding': 'gzip' } }),
    400,
    /request body: Content-Encoding gzip, but the body is not valid gzip data \(incorrect header check\)/,
  );
  assertError(
    await call(infer, {
      method: 'POST',
      body: gzipSync(body).subarray(0, 100),
      headers: { 'Content-Encoding': 'gzip' },
    }),
    400,
    /not valid gzip data \(unexpected end of file\)/,
  );
  assert.equal((await postJson(infer, fp32Request(randomInput(1, 33), 1))).status, 200);
});

test('a zip bomb is a 413 once it decompresses past --max-body-bytes, in bounded memory', async () => {
  // 256 MiB of zeros are 256 KiB of gzip, well under the limit; decompressed they are 256x over it.
  const bomb = gzipSync(Buffer.alloc(256 * 1024 * 1024), { level: 9 });
  assert.ok(bomb.length < MAX_BODY);
  global.gc?.();
  const before = process.memoryUsage().rss;
  const reply = await call(infer, { method: 'POST', body: bomb, headers: { 'Content-Encoding': 'gzip' } });
  const grown = process.memoryUsage().rss - before;
  assertError(
    reply,
    413,
    /request body of more than 1000000 bytes once decompressed \(Content-Encoding gzip\) exceeds the limit of 1000000 bytes \(--max-body-bytes\)/,
  );
  assert.ok(grown < 64 * 1024 * 1024, `the server grew by ${(grown / 2 ** 20).toFixed(0)} MiB for a 256 MiB bomb`);
  assert.equal((await postJson(infer, fp32Request(randomInput(1, 34), 1))).status, 200);
});

test('replies are compressed as Accept-Encoding asks (q-values, wildcard), with Vary; the JSON is the same', async () => {
  const body = Buffer.from(JSON.stringify(fp32Request(randomInput(3, 35), 3)));
  const plain = await rawRequest(infer, 'POST', body, { 'Content-Type': 'application/json' });
  assert.equal(plain.headers['content-encoding'], undefined);
  assert.equal(plain.headers.vary, 'Accept-Encoding');
  const cases: [string, string | undefined][] = [
    ['gzip', 'gzip'],
    ['deflate', 'deflate'],
    ['gzip;q=0.5, deflate', 'deflate'],
    ['br, gzip;q=0.1', 'gzip'],
    ['*', 'gzip'],
    ['br', undefined],
    ['gzip;q=0, deflate;q=0', undefined],
    ['identity', undefined],
  ];
  for (const [accept, expected] of cases) {
    assert.equal(replyEncoding(accept), expected, accept);
    const reply = await rawRequest(infer, 'POST', body, {
      'Content-Type': 'application/json',
      'Accept-Encoding': accept,
    });
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['content-encoding'], expected, accept);
    const text =
      expected === 'gzip' ? gunzipSync(reply.body) : expected === 'deflate' ? inflateSync(reply.body) : reply.body;
    if (expected) assert.ok(reply.body.length < text.length, 'compressed is smaller');
    assert.deepEqual(JSON.parse(text.toString()), JSON.parse(plain.body.toString()), accept);
  }
  // Binary replies too: the header length still counts the uncompressed JSON.
  const binary = await rawRequest(
    infer,
    'POST',
    Buffer.from(JSON.stringify({ ...fp32Request(randomInput(3, 35), 3), parameters: { binary_data_output: true } })),
    { 'Accept-Encoding': 'gzip' },
  );
  assert.equal(binary.headers['content-encoding'], 'gzip');
  const unpacked = gunzipSync(binary.body);
  const headerLength = Number(binary.headers['inference-header-content-length']);
  const head = JSON.parse(unpacked.subarray(0, headerLength).toString()) as {
    outputs: { parameters: { binary_data_size: number } }[];
  };
  assert.equal(unpacked.length - headerLength, head.outputs[0]!.parameters.binary_data_size);
  // Metadata and metrics are compressed on request as well.
  for (const path of [`/v2/models/${MODEL_NAME}`, '/metrics', `/v2/models/${MODEL_NAME}/config`]) {
    const reply = await rawRequest(`${server.url}${path}`, 'GET', undefined, { 'Accept-Encoding': 'gzip' });
    assert.equal(reply.headers['content-encoding'], 'gzip', path);
    assert.ok(gunzipSync(reply.body).length > 0);
  }
});

test("Python's http.client, which writes the whole body before reading, gets the 413 (and the 404) and keeps its connection", async () => {
  const spec = [
    {
      method: 'POST',
      path: `/v2/models/${MODEL_NAME}/infer`,
      body_size: 3 * MAX_BODY,
      headers: { 'Content-Type': 'application/json' },
    },
    { method: 'POST', path: `/v2/models/nope/infer`, body_size: 2 * MAX_BODY - 7 },
    {
      method: 'POST',
      path: `/v2/models/${MODEL_NAME}/infer`,
      body_size: MAX_BODY + 1,
      headers: { 'Content-Encoding': 'br' },
    },
    { method: 'GET', path: '/v2/health/ready' },
  ];
  await writeFile(join(scratch, 'requests.json'), JSON.stringify(spec));
  const { hostname, port } = new URL(server.url);
  const { stdout } = await promisify(execFile)(PYTHON, [PYTHON_CLIENT, hostname, port, join(scratch, 'requests.json')]);
  const replies = stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { status?: number; body?: string; error?: string });
  assert.equal(replies.length, 4, stdout);
  assert.equal(replies[0]!.status, 413, stdout);
  const error = (i: number): string => (JSON.parse(replies[i]!.body!) as { error: string }).error;
  assert.match(error(0), /request body of 3000000 bytes exceeds the limit of 1000000 bytes \(--max-body-bytes\)/);
  assert.equal(replies[1]!.status, 404, stdout);
  assert.match(error(1), /model "nope" not found/);
  assert.equal(replies[2]!.status, 415, stdout);
  // The same connection served the next request: the refused bodies were read and dropped, not left in the way.
  assert.equal(replies[3]!.status, 200, stdout);
});

test('curl gets the 413 with and without Expect: 100-continue, sends gzip and reads a compressed reply', async () => {
  const big = join(scratch, 'big.json');
  await writeFile(big, Buffer.alloc(3 * MAX_BODY, '{'));
  const curl = async (args: string[]): Promise<string> =>
    (await promisify(execFile)('curl', ['-s', '-S', '--max-time', '30', ...args], { maxBuffer: 1 << 24 })).stdout;
  // curl asks first for a body this size; without the header it sends it all.
  for (const expect of [[], ['-H', 'Expect:']]) {
    const out = await curl([...expect, '-w', '\n%{http_code}', '--data-binary', `@${big}`, infer]);
    const [body, status] = [out.slice(0, out.lastIndexOf('\n')), out.slice(out.lastIndexOf('\n') + 1)];
    assert.equal(status, '413', `curl ${expect.join(' ')}: ${out.slice(0, 200)}`);
    assert.match(body, /exceeds the limit of 1000000 bytes/);
  }
  const request = join(scratch, 'request.json.gz');
  // Three rows: a reply long enough to be worth compressing.
  const input = randomInput(3, 36);
  await writeFile(request, gzipSync(JSON.stringify(fp32Request(input, 3))));
  const out = await curl([
    '--compressed',
    '-D',
    join(scratch, 'headers.txt'),
    '-H',
    'Content-Encoding: gzip',
    '-H',
    'Content-Type: application/json',
    '--data-binary',
    `@${request}`,
    infer,
  ]);
  const reply = JSON.parse(out) as { outputs: { data: number[] }[] };
  assert.deepEqual(
    reply.outputs[0]!.data.map(Math.fround),
    Array.from(replyLogits(await postJson(infer, fp32Request(input, 3)))),
  );
  const headers = (await promisify(execFile)('cat', [join(scratch, 'headers.txt')])).stdout;
  assert.match(headers, /content-encoding: (gzip|deflate)/i, 'curl --compressed got a compressed reply');
});

test('CONNECT and methods the server has no route for get a reply, not a closed socket', async () => {
  const cases: [string, RegExp][] = [
    [
      'CONNECT example.com:443 HTTP/1.1',
      /^HTTP\/1\.1 405 Method Not Allowed\r\n[\s\S]*Allow: GET, HEAD, POST[\s\S]*method CONNECT is not allowed/,
    ],
    ['BREW /v2 HTTP/1.1', /^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*"error":"malformed HTTP request \(HPE_INVALID_METHOD/],
    ['PROPFIND /v2 HTTP/1.1', /^HTTP\/1\.1 405 Method Not Allowed\r\n[\s\S]*method PROPFIND is not allowed on \/v2/],
    ['OPTIONS /v2/repository/index HTTP/1.1', /^HTTP\/1\.1 405 [\s\S]*allowed: POST/],
    ['TRACE /nowhere HTTP/1.1', /^HTTP\/1\.1 404 [\s\S]*no route TRACE \/nowhere/],
  ];
  for (const [line, pattern] of cases) {
    const conn = await rawConnection(server.url);
    conn.write(`${line}\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    await conn.closed;
    assert.match(conn.received(), pattern, line);
  }
  assert.equal((await call(`${server.url}/v2/health/live`)).status, 200);
});
