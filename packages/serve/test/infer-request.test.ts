// Decoding inference requests against a model spec (every refusal names its field) and encoding replies (raw
// FP32 that round-trips float32 exactly, and Triton's classification strings).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DepthfoldInputError } from '@depthfold/core';
import {
  classifyRow,
  type DecodedRequest,
  decodeInferRequest as parseInferRequest,
  encodeInferResponse,
  modelSpecOf,
  type ModelSpec,
} from '../src/index.js';
import * as onnx from '@depthfold/onnx';
import { CASES, metadataFor, randomCheckpoint } from '@depthfold/testing';

const metadata = metadataFor(onnx, randomCheckpoint(CASES[0]!), true);
const spec: ModelSpec = modelSpecOf('tiny', metadata, 4);
const SIZE = 28 * 28;

function request(
  overrides: Record<string, unknown> = {},
  input: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    inputs: [{ name: 'input', shape: [1, 1, 28, 28], datatype: 'FP32', data: Array(SIZE).fill(0.5), ...input }],
    ...overrides,
  };
}

/** A tensor request's decoding (these tests send no BYTES input, whose images are decoded later). */
function decodeInferRequest(body: unknown, model: ModelSpec): DecodedRequest {
  const parsed = parseInferRequest(body, model);
  assert.ok(parsed.input !== undefined, 'a tensor request is ready to run');
  return parsed;
}

function refusal(body: unknown): DepthfoldInputError {
  try {
    decodeInferRequest(body, spec);
  } catch (error) {
    assert.ok(error instanceof DepthfoldInputError, String(error));
    return error;
  }
  assert.fail('expected the request to be refused');
}

test('a flat FP32 request decodes to its rows; without outputs, the raw logits are asked for', () => {
  const decoded = decodeInferRequest(request({ id: 'r1' }), spec);
  assert.equal(decoded.id, 'r1');
  assert.equal(decoded.rows, 1);
  assert.equal(decoded.input.length, SIZE);
  assert.ok(decoded.input.every((v) => v === 0.5));
  assert.deepEqual(decoded.outputs, [{ name: 'logits' }]);
});

test('nested data (the natural multi-dimensional form) reads in row-major order', () => {
  const nested = [[Array.from({ length: 28 }, (_, y) => Array.from({ length: 28 }, (_, x) => y * 28 + x))]];
  const decoded = decodeInferRequest(request({}, { data: nested }), spec);
  assert.deepEqual(
    Array.from(decoded.input.subarray(0, 30)),
    Array.from({ length: 30 }, (_, i) => i),
  );
});

test('UINT8 pixels are normalised with the model statistics: (p / 255 - mean) / std', () => {
  const data = Array.from({ length: SIZE }, (_, i) => i % 256);
  const decoded = decodeInferRequest(request({}, { datatype: 'UINT8', data }), spec);
  const { mean, std } = metadata.normalization;
  for (const i of [0, 1, 128, 255, 300])
    assert.ok(Math.abs(decoded.input[i]! - ((i % 256) / 255 - mean[0]!) / std[0]!) < 1e-6);
});

test('classification and duplicate or unknown outputs', () => {
  const decoded = decodeInferRequest(
    request({ outputs: [{ name: 'logits', parameters: { classification: 3 } }] }),
    spec,
  );
  assert.deepEqual(decoded.outputs, [{ name: 'logits', classification: 3 }]);
  assert.match(refusal(request({ outputs: [{ name: 'probs' }] })).message, /outputs\[0\]\.name: expected "logits"/);
  assert.match(
    refusal(request({ outputs: [{ name: 'logits' }, { name: 'logits' }] })).message,
    /outputs\[1\]\.name: expected each output once/,
  );
  for (const k of [0, -1, 2.5, '3']) {
    assert.match(
      refusal(request({ outputs: [{ name: 'logits', parameters: { classification: k } }] })).message,
      /outputs\[0\]\.parameters\.classification: expected an integer >= 1 \(from 10, the number of classes, up, every class is returned\)/,
    );
  }
  // Triton's rule: K above the number of classes gives every class.
  for (const k of [10, 11, 1000]) {
    const all = decodeInferRequest(request({ outputs: [{ name: 'logits', parameters: { classification: k } }] }), spec);
    assert.deepEqual(all.outputs, [{ name: 'logits', classification: 10 }]);
  }
});

test('every malformed request is refused with the field named', () => {
  const cases: [unknown, RegExp][] = [
    [null, /\(root\): expected an inference request object/],
    [[], /\(root\): expected an inference request object/],
    [{}, /inputs: expected an array of input tensors/],
    [{ inputs: [] }, /inputs: expected at least one input tensor/],
    [request({ id: 7 }), /id: expected a string/],
    [request({ parameters: { x: [1] } }), /parameters\.x: expected a parameter value/],
    [
      request({}, { name: 'image' }),
      /inputs\[0\]\.name: expected "input" \(the model's only input\), received "image"/,
    ],
    [request({}, { datatype: 'FP64' }), /inputs\[0\]\.datatype: expected "FP32" .* "UINT8" .* or "BYTES"/],
    [request({}, { datatype: 'FLOAT' }), /inputs\[0\]\.datatype: expected a V2 datatype/],
    [request({}, { shape: [1, 28, 28] }), /inputs\[0\]\.shape: expected \[N, 1, 28, 28\] with N from 1 to 4/],
    [request({}, { shape: [1, 3, 28, 28] }), /inputs\[0\]\.shape: expected \[N, 1, 28, 28\]/],
    [
      request({}, { shape: [5, 1, 28, 28] }),
      /inputs\[0\]\.shape: .*N from 1 to 4 \(the max batch size\), received \[5,1,28,28\]/,
    ],
    [request({}, { shape: [0, 1, 28, 28] }), /inputs\[0\]\.shape/],
    [request({}, { shape: [1, 1, 28, -28] }), /inputs\[0\]\.shape\[3\]: expected a dimension/],
    [
      request({}, { data: Array(SIZE - 1).fill(0) }),
      /inputs\[0\]\.data: expected 784 elements \(shape \[1, 1, 28, 28\]\), received 783/,
    ],
    [request({}, { data: Array(SIZE + 1).fill(0) }), /received 785/],
    [
      request({}, { data: [...Array(9).fill(0), 'x', ...Array(SIZE - 10).fill(0)] }),
      /inputs\[0\]\.data\[9\]: expected a finite FP32 number, received "x"/,
    ],
    [
      request({}, { data: [...Array(SIZE - 1).fill(0), Infinity] }),
      /inputs\[0\]\.data\[783\]: expected a finite FP32 number, received "Infinity"/,
    ],
    [
      request({}, { data: [1e39, ...Array(SIZE - 1).fill(0)] }),
      /inputs\[0\]\.data\[0\]: expected a finite FP32 number/,
    ],
    [
      request({}, { data: [null, ...Array(SIZE - 1).fill(0)] }),
      /inputs\[0\]\.data\[0\]: expected a finite FP32 number/,
    ],
    [
      request({}, { datatype: 'UINT8', data: [256, ...Array(SIZE - 1).fill(0)] }),
      /inputs\[0\]\.data\[0\]: expected an integer from 0 to 255/,
    ],
    [
      request({}, { datatype: 'UINT8', data: [1.5, ...Array(SIZE - 1).fill(0)] }),
      /inputs\[0\]\.data\[0\]: expected an integer from 0 to 255/,
    ],
    [
      request({}, { data: [[Array(28).fill(Array(28).fill(0))], [[[Array(28).fill(0)]]]] }),
      /inputs\[0\]\.data: expected 1 items \(dimension 0 of shape \[1, 1, 28, 28\]: nested data must have the shape it declares\), received "2"/,
    ],
    [
      request({}, { data: [[[[[[[[[[0]]]]]]]]]] }),
      /inputs\[0\]\.data\[0\]\[0\]: expected 28 items \(dimension 2 of shape \[1, 1, 28, 28\]/,
    ],
    [{ inputs: [request().inputs, request().inputs].flat() }, /inputs\[1\]\.name: expected each input once/],
    [
      request({ parameters: { binary_data_output: 'yes' } }),
      /parameters\.binary_data_output: expected true or false, received "yes"/,
    ],
    [
      request({ outputs: [{ name: 'logits', parameters: { binary_data: 1 } }] }),
      /outputs\[0\]\.parameters\.binary_data: expected true or false, received 1/,
    ],
    [
      request({}, { parameters: { binary_data_size: 3136 } }),
      /inputs\[0\]\.parameters\.binary_data_size: expected absent in a JSON-only body/,
    ],
    [
      request({}, { data: undefined }),
      /inputs\[0\]\.data: expected tensor data \(a JSON array\), or parameters\.binary_data_size/,
    ],
  ];
  for (const [body, pattern] of cases) assert.match(refusal(body).message, pattern, JSON.stringify(body).slice(0, 120));
});

test('ragged nested data is refused naming the first row that differs, even when its count matches', () => {
  const row = (n: number): number[] => Array(n).fill(0.5);
  const rows = (lengths: number[]): number[][] => lengths.map(row);
  const cases: [unknown, RegExp][] = [
    // The issue's case: rows of 400 and 384 values (784 in all) under one channel.
    [
      [[rows([400, 384])]],
      /inputs\[0\]\.data\[0\]\[0\]: expected 28 items \(dimension 2 of shape \[1, 1, 28, 28\].*received "2"/,
    ],
    // 28 rows, one of 27 values and one of 29: the first that differs is named.
    [
      [[rows([...Array(5).fill(28), 27, 29, ...Array(21).fill(28)])]],
      /inputs\[0\]\.data\[0\]\[0\]\[5\]: expected 28 items \(dimension 3 of shape \[1, 1, 28, 28\]: nested data must have the shape it declares\), received "27"/,
    ],
    // A number where a row belongs, and a row where a number belongs.
    [[[[...rows(Array(27).fill(28)), 0.5]]], /inputs\[0\]\.data\[0\]\[0\]\[27\]: expected an array of 28 items/],
    [
      [[[[...row(27), [0.5]], ...rows(Array(27).fill(28))]]],
      /inputs\[0\]\.data\[0\]\[0\]\[0\]\[27\]: expected a number/,
    ],
    // Partly nested data ([1][784]) is not the declared [1, 1, 28, 28] either.
    [[row(784)], /inputs\[0\]\.data\[0\]: expected 1 items \(dimension 1/],
  ];
  for (const [data, pattern] of cases) assert.match(refusal(request({}, { data })).message, pattern);
  // The same values with the declared shape are accepted.
  assert.equal(decodeInferRequest(request({}, { data: [[rows(Array(28).fill(28))]] }), spec).input.length, SIZE);
});

test('infinity written as 1e999 in JSON is caught', () => {
  const body = JSON.parse(
    `{"inputs":[{"name":"input","shape":[1,1,28,28],"datatype":"FP32","data":[1e999${',0'.repeat(SIZE - 1)}]}]}`,
  ) as unknown;
  assert.match(refusal(body).message, /inputs\[0\]\.data\[0\]: expected a finite FP32 number, received "Infinity"/);
});

test('the reply echoes the id, gives FP32 logits that round-trip float32 exactly, and classification strings', () => {
  const logits = Float32Array.from({ length: 20 }, (_, i) => Math.fround(Math.sin(i) * 3.3));
  const decoded = { id: 'x', rows: 2, input: new Float32Array(), outputs: [{ name: 'logits' }] };
  const reply = encodeInferResponse(spec, decoded, logits);
  assert.equal(reply.model_name, 'tiny');
  assert.equal(reply.model_version, '1');
  assert.equal(reply.id, 'x');
  const [out] = reply.outputs;
  assert.deepEqual(out!.shape, [2, 10]);
  assert.equal(out!.datatype, 'FP32');
  const parsed = (JSON.parse(JSON.stringify(out!.data)) as number[]).map(Math.fround);
  assert.deepEqual(parsed, Array.from(logits));

  const classified = encodeInferResponse(
    spec,
    { rows: 2, input: new Float32Array(), outputs: [{ name: 'logits', classification: 2 }] },
    logits,
  );
  assert.equal(classified.id, undefined);
  assert.deepEqual(classified.outputs[0]!.shape, [2, 2]);
  assert.equal(classified.outputs[0]!.datatype, 'BYTES');
  const labels = metadata.labels;
  for (const [r, entry] of (classified.outputs[0]!.data as string[]).entries()) {
    const [value, index, label] = entry.split(':');
    const row = Math.floor(r / 2);
    assert.equal(Math.fround(Number(value)), logits[row * 10 + Number(index)]);
    assert.equal(label, labels[Number(index)]);
  }
});

test('classification orders by value, ties by the lower index, and keeps colons in labels', () => {
  const row = Float32Array.from([1, 3, 3, 0.5]);
  assert.deepEqual(classifyRow(row, ['a', 'b', 'c:d', 'e'], 3), ['3:1:b', '3:2:c:d', '1:0:a']);
});
