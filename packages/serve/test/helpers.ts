// HTTP and ORT helpers for the server tests: JSON requests with fetch, and the same rows run directly in ORT.
import assert from 'node:assert/strict';
import { type InferenceSession, Tensor } from 'onnxruntime-node';
import { IMAGE_SIZE, INPUT } from './fixtures.js';

/** A reply: status, headers, and the body parsed as JSON when there is one. */
export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

/** Sends a request and reads the whole reply. */
export async function call(url: string, init: RequestInit = {}): Promise<Reply> {
  const res = await fetch(url, init);
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** POSTs a JSON body. */
export function postJson(url: string, body: unknown): Promise<Reply> {
  return call(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
}

/** An FP32 inference request body for `rows` images. */
export function fp32Request(
  data: Float32Array,
  rows: number,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    inputs: [
      {
        name: 'input',
        shape: [rows, INPUT.channels, INPUT.height, INPUT.width],
        datatype: 'FP32',
        data: Array.from(data),
      },
    ],
    ...extra,
  };
}

/** Asserts a protocol error reply: the status, JSON `{"error": string}` matching `pattern`. */
export function assertError(reply: Reply, status: number, pattern: RegExp): void {
  assert.equal(reply.status, status, reply.text);
  assert.match(reply.headers.get('content-type') ?? '', /application\/json/);
  const body = reply.json as { error?: unknown };
  assert.equal(typeof body?.error, 'string', reply.text);
  assert.match(body.error as string, pattern);
}

/** The logits of a reply's first output, as float32. */
export function replyLogits(reply: Reply): Float32Array {
  const body = reply.json as { outputs: { data: number[] }[] };
  return Float32Array.from(body.outputs[0]!.data);
}

/** Runs rows directly in an ORT session (the reference the server must match). */
export async function directLogits(
  session: InferenceSession,
  input: Float32Array,
  rows: number,
): Promise<Float32Array> {
  const out = await session.run({
    input: new Tensor('float32', input, [rows, INPUT.channels, INPUT.height, INPUT.width]),
  });
  return out.logits!.data as Float32Array;
}

/** The `n`th row of `rows`-row input. */
export function rowsOf(input: Float32Array, from: number, count: number): Float32Array {
  return input.slice(from * IMAGE_SIZE, (from + count) * IMAGE_SIZE);
}

/** Asserts two logit arrays agree within `tolerance` and have the same argmax in every row of `classes`. */
export function assertLogitsMatch(actual: Float32Array, expected: Float32Array, classes = 10, tolerance = 1e-5): void {
  assert.equal(actual.length, expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  assert.ok(worst <= tolerance, `max |difference| ${worst} > ${tolerance}`);
  for (let r = 0; r < actual.length / classes; r++) {
    const row = (a: Float32Array): number => {
      let best = 0;
      for (let c = 1; c < classes; c++) if (a[r * classes + c]! > a[r * classes + best]!) best = c;
      return best;
    };
    assert.equal(row(actual), row(expected), `top-1 of row ${r}`);
  }
}
