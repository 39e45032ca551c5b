// Triton's binary tensor data extension over HTTP, with requests built byte by byte from the specification
// (docs/protocol/extension_binary_data.md) and with `curl --data-binary`: each answer equals the JSON path's
// answer for the same request and ORT run directly; malformed bodies are 400s that name the field.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { InferenceSession } from 'onnxruntime-node';
import { loadServedModel, startServer, type InferenceServer } from '../src/index.js';
import { fixtureModelFile, MODEL_NAME, randomInput, randomPixels } from './fixtures.js';
import { assertError, assertLogitsMatch, call, directLogits, fp32Request, postJson, replyLogits } from './helpers.js';

let fixture: Awaited<ReturnType<typeof fixtureModelFile>>;
let server: InferenceServer;
let session: InferenceSession;
let infer: string;
let scratch: string;
const MAX_BODY = 100_000;

before(async () => {
  fixture = await fixtureModelFile();
  server = await startServer(await loadServedModel(fixture.path, { batchDelayMs: 0, maxBatch: 8 }), {
    port: 0,
    maxBodyBytes: MAX_BODY,
  });
  infer = `${server.url}/v2/models/${MODEL_NAME}/infer`;
  session = await InferenceSession.create(fixture.path);
  scratch = await mkdtemp(join(tmpdir(), 'depthfold-binary-'));
});

after(async () => {
  await server.close();
  await session.release();
  await fixture.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

/** FP32 values as the extension lays them out: 4 bytes each, little-endian, written one by one. */
function fp32Bytes(values: Float32Array): Buffer {
  const out = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => out.writeFloatLE(v, i * 4));
  return out;
}

/** A binary body: the JSON header's bytes, then the tensor bytes; and the header's length. */
function binaryBody(header: unknown, ...tensors: Uint8Array[]): { body: Buffer; headerLength: number } {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  return { body: Buffer.concat([json, ...tensors]), headerLength: json.length };
}

async function postBinary(
  body: Buffer,
  headerLength: number | string,
): Promise<{ status: number; headers: Headers; bytes: Buffer }> {
  const res = await fetch(infer, {
    method: 'POST',
    body: new Uint8Array(body),
    headers: { 'Content-Type': 'application/octet-stream', 'Inference-Header-Content-Length': String(headerLength) },
  });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

interface BinaryReply {
  header: {
    model_name: string;
    id?: string;
    outputs: {
      name: string;
      datatype: string;
      shape: number[];
      parameters?: { binary_data_size: number };
      data?: unknown[];
    }[];
  };
  tensors: Buffer[];
}

/** Splits a binary reply by its Inference-Header-Content-Length and each output's binary_data_size. */
function parseBinaryReply(headers: Headers, bytes: Buffer): BinaryReply {
  const length = Number(headers.get('inference-header-content-length'));
  assert.ok(
    Number.isInteger(length) && length > 0 && length <= bytes.length,
    `Inference-Header-Content-Length ${headers.get('inference-header-content-length')}`,
  );
  const header = JSON.parse(bytes.subarray(0, length).toString('utf8')) as BinaryReply['header'];
  const tensors: Buffer[] = [];
  let at = length;
  for (const output of header.outputs) {
    const size = output.parameters?.binary_data_size;
    if (size === undefined) continue;
    tensors.push(bytes.subarray(at, at + size));
    at += size;
  }
  assert.equal(at, bytes.length, 'the binary outputs fill the rest of the body exactly');
  return { header, tensors };
}

/** FP32 little-endian bytes read back one by one. */
function readFp32(bytes: Buffer): Float32Array {
  return Float32Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readFloatLE(i * 4));
}

/** BYTES elements: a 4-byte little-endian length, then the bytes, read by hand. */
function readBytesElements(bytes: Buffer): string[] {
  const out: string[] = [];
  for (let at = 0; at < bytes.length; ) {
    const n = bytes.readUInt32LE(at);
    out.push(bytes.toString('utf8', at + 4, at + 4 + n));
    at += 4 + n;
  }
  return out;
}

test('FP32 in binary, logits out in binary: equal to the JSON reply and to ORT', async () => {
  const input = randomInput(3, 31);
  const header = {
    id: 'bin-1',
    inputs: [{ name: 'input', shape: [3, 1, 28, 28], datatype: 'FP32', parameters: { binary_data_size: 3 * 784 * 4 } }],
    outputs: [{ name: 'logits', parameters: { binary_data: true } }],
  };
  const { body, headerLength } = binaryBody(header, fp32Bytes(input));
  const reply = await postBinary(body, headerLength);
  assert.equal(reply.status, 200, reply.bytes.toString());
  assert.equal(reply.headers.get('content-type'), 'application/octet-stream');
  const { header: out, tensors } = parseBinaryReply(reply.headers, reply.bytes);
  assert.equal(out.id, 'bin-1');
  assert.deepEqual(out.outputs, [
    { name: 'logits', datatype: 'FP32', shape: [3, 10], parameters: { binary_data_size: 120 } },
  ]);
  const logits = readFp32(tensors[0]!);
  const json = await postJson(infer, fp32Request(input, 3));
  assert.deepEqual(
    Array.from(logits),
    Array.from(replyLogits(json)),
    'bit for bit the JSON reply (9 significant digits round-trip float32)',
  );
  assertLogitsMatch(logits, await directLogits(session, input, 3));
});

test('UINT8 pixels in binary, classification out as BYTES with 4-byte length prefixes: equal to the JSON reply', async () => {
  const pixels = randomPixels(2, 32);
  const outputs = [{ name: 'logits', parameters: { classification: 3, binary_data: true } }];
  const { body, headerLength } = binaryBody(
    {
      inputs: [{ name: 'input', shape: [2, 1, 28, 28], datatype: 'UINT8', parameters: { binary_data_size: 2 * 784 } }],
      outputs,
    },
    pixels,
  );
  const reply = await postBinary(body, headerLength);
  assert.equal(reply.status, 200, reply.bytes.toString());
  const { header, tensors } = parseBinaryReply(reply.headers, reply.bytes);
  assert.deepEqual(header.outputs[0]!.datatype, 'BYTES');
  assert.deepEqual(header.outputs[0]!.shape, [2, 3]);
  const json = await postJson(infer, {
    inputs: [{ name: 'input', shape: [2, 1, 28, 28], datatype: 'UINT8', data: Array.from(pixels) }],
    outputs: [{ name: 'logits', parameters: { classification: 3 } }],
  });
  assert.deepEqual(readBytesElements(tensors[0]!), (json.json as { outputs: { data: string[] }[] }).outputs[0]!.data);
});

test("binary_data_output asks for every output in binary; an output's binary_data: false overrides it; binary in, JSON out", async () => {
  const input = randomInput(1, 33);
  const expected = Array.from(replyLogits(await postJson(infer, fp32Request(input, 1))));
  const all = await fetch(infer, {
    method: 'POST',
    body: JSON.stringify(fp32Request(input, 1, { parameters: { binary_data_output: true } })),
  });
  const parsed = parseBinaryReply(all.headers, Buffer.from(await all.arrayBuffer()));
  assert.deepEqual(Array.from(readFp32(parsed.tensors[0]!)), expected);
  const overridden = await postJson(
    infer,
    fp32Request(input, 1, {
      parameters: { binary_data_output: true },
      outputs: [{ name: 'logits', parameters: { binary_data: false } }],
    }),
  );
  assert.equal(overridden.headers.get('inference-header-content-length'), null);
  assert.deepEqual(Array.from(replyLogits(overridden)), expected);
  const { body, headerLength } = binaryBody(
    { inputs: [{ name: 'input', shape: [1, 1, 28, 28], datatype: 'FP32', parameters: { binary_data_size: 3136 } }] },
    fp32Bytes(input),
  );
  const jsonOut = await postBinary(body, headerLength);
  assert.equal(jsonOut.headers.get('content-type'), 'application/json');
  assert.deepEqual(
    Array.from(
      Float32Array.from((JSON.parse(jsonOut.bytes.toString()) as { outputs: { data: number[] }[] }).outputs[0]!.data),
    ),
    expected,
  );
});

test('curl --data-binary: the same request from a file gives the same logits', async () => {
  const input = randomInput(1, 34);
  const { body, headerLength } = binaryBody(
    {
      inputs: [{ name: 'input', shape: [1, 1, 28, 28], datatype: 'FP32', parameters: { binary_data_size: 3136 } }],
      outputs: [{ name: 'logits', parameters: { binary_data: true } }],
    },
    fp32Bytes(input),
  );
  const file = join(scratch, 'request.bin');
  await writeFile(file, body);
  const headersFile = join(scratch, 'headers.txt');
  const outFile = join(scratch, 'reply.bin');
  await promisify(execFile)('curl', [
    '-sS',
    '--fail-with-body',
    infer,
    '-H',
    'Content-Type: application/octet-stream',
    '-H',
    `Inference-Header-Content-Length: ${headerLength}`,
    '--data-binary',
    `@${file}`,
    '-D',
    headersFile,
    '-o',
    outFile,
  ]);
  const headerLines = (await readFile(headersFile, 'utf8')).split('\r\n');
  const headers = new Headers(
    headerLines
      .slice(1)
      .filter((l) => l.includes(':'))
      .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()] as [string, string]),
  );
  assert.match(headerLines[0]!, /^HTTP\/1\.1 200/);
  const { tensors } = parseBinaryReply(headers, await readFile(outFile));
  assert.deepEqual(
    Array.from(readFp32(tensors[0]!)),
    Array.from(replyLogits(await postJson(infer, fp32Request(input, 1)))),
  );
});

test('malformed binary requests are 400s that name the field; nothing is allocated from a declared size', async () => {
  const good = {
    inputs: [{ name: 'input', shape: [1, 1, 28, 28], datatype: 'FP32', parameters: { binary_data_size: 3136 } }],
  };
  const tensor = fp32Bytes(randomInput(1, 35));
  const withSize = (size: unknown, shape = [1, 1, 28, 28], datatype = 'FP32'): unknown => ({
    inputs: [{ name: 'input', shape, datatype, parameters: { binary_data_size: size } }],
  });
  const header = (h: unknown): Buffer => Buffer.from(JSON.stringify(h));
  const cases: [Buffer, number | string, RegExp][] = [
    [
      Buffer.concat([header(good), tensor]),
      header(good).length + tensor.length + 1,
      /Inference-Header-Content-Length: expected the JSON header's length in bytes, an integer from 0 to the body's \d+, received "\d+"/,
    ],
    [Buffer.concat([header(good), tensor]), 'ten', /Inference-Header-Content-Length: expected .*received "ten"/],
    [Buffer.concat([header(good), tensor]), -1, /Inference-Header-Content-Length: expected/],
    [
      Buffer.concat([header(good), tensor.subarray(0, 3000)]),
      header(good).length,
      /binary tensor data: expected 3136 bytes after the JSON header .*, received 3000$/,
    ],
    [
      Buffer.concat([header(good), tensor, Buffer.from([1, 2])]),
      header(good).length,
      /binary tensor data: expected 3136 bytes .*, received 3138$/,
    ],
    [
      Buffer.concat([header(withSize(3135)), tensor]),
      header(withSize(3135)).length,
      /inputs\[0\]\.parameters\.binary_data_size: expected 3136 bytes \(shape \[1, 1, 28, 28\], FP32, 4 bytes per element\), received 3135/,
    ],
    [
      Buffer.concat([header(withSize(3136, [2, 1, 28, 28])), tensor]),
      header(withSize(3136, [2, 1, 28, 28])).length,
      /binary_data_size: expected 6272 bytes \(shape \[2, 1, 28, 28\]/,
    ],
    [
      Buffer.concat([header(withSize(3136, [1, 1, 28, 28], 'UINT8')), tensor]),
      header(withSize(3136, [1, 1, 28, 28], 'UINT8')).length,
      /binary_data_size: expected 784 bytes \(shape \[1, 1, 28, 28\], UINT8, 1 byte per element\), received 3136/,
    ],
    [
      Buffer.concat([header(withSize(1e12)), tensor]),
      header(withSize(1e12)).length,
      /binary_data_size: expected 3136 bytes .*received 1000000000000/,
    ],
    [
      Buffer.concat([header(withSize(-4)), tensor]),
      header(withSize(-4)).length,
      /binary_data_size: expected a size in bytes \(an integer >= 0\), received -4/,
    ],
    [
      Buffer.concat([Buffer.from('{"inputs": ['), tensor]),
      12,
      /inference header: expected a JSON inference request, received invalid JSON/,
    ],
    [
      Buffer.concat([header(fp32Request(randomInput(1, 36), 1)), Buffer.from([0, 0, 0, 0])]),
      header(fp32Request(randomInput(1, 36), 1)).length,
      /binary tensor data: expected 0 bytes .*received 4$/,
    ],
    [
      Buffer.concat([header(good), fp32Bytes(Float32Array.of(...new Float32Array(783), Number.NaN))]),
      header(good).length,
      /inputs\[0\] binary data element 783: expected a finite FP32 number, received "NaN"/,
    ],
  ];
  for (const [body, length, pattern] of cases) {
    const reply = await postBinary(body, length);
    assertError(
      {
        status: reply.status,
        headers: reply.headers,
        text: reply.bytes.toString(),
        json: JSON.parse(reply.bytes.toString()),
      },
      400,
      pattern,
    );
  }
  // JSON data and binary_data_size together, and binary_data_size in a JSON-only body.
  const both = { inputs: [{ ...good.inputs[0], data: Array(784).fill(0) }] };
  assertError(
    await call(infer, {
      method: 'POST',
      body: JSON.stringify(both),
      headers: { 'Inference-Header-Content-Length': String(JSON.stringify(both).length) },
    }),
    400,
    /inputs\[0\]\.data: expected absent when parameters\.binary_data_size is given/,
  );
  assertError(
    await call(infer, { method: 'POST', body: JSON.stringify(good) }),
    400,
    /inputs\[0\]\.parameters\.binary_data_size: expected absent in a JSON-only body \(binary data needs the Inference-Header-Content-Length header\)/,
  );
  // The body limit holds for binary bodies too, whatever they declare.
  const big = Buffer.concat([header(good), Buffer.alloc(MAX_BODY)]);
  const tooBig = await postBinary(big, header(good).length);
  assert.equal(tooBig.status, 413);
  assert.equal((await postJson(infer, fp32Request(randomInput(1, 37), 1))).status, 200, 'the server goes on');
});
