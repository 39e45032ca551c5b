// What load and classify check about the model beyond its bytes: the metadata against the graph (input size, class
// count, labels), sane normalisation, and outputs that are never NaN.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DepthfoldInputError } from '@depthfold/core';
import { decodeModelProto, encodeModel, type ModelProto } from '@depthfold/onnx';
import { InferModelError, load } from '../src/index.js';
import { fixtureModelBytes } from './fixtures.js';
import { editMetadata, failsWith, randomImage, restamp } from './helpers.js';

const model: ModelProto = decodeModelProto(fixtureModelBytes());
// biome-ignore lint/suspicious/noExplicitAny: the test edits decoded protobuf messages by field name, at any depth
type Entries = Record<string, any>;

/** The fixture with edited metadata; the digest leaves metadata out, so it still matches. */
const edited = (edit: (m: Entries) => void): Uint8Array => editMetadata(model, edit);

test('metadata claiming another input size than the graph is refused at load, naming the field and both sizes', async () => {
  const claim = (height: number, width: number, channels: number) =>
    edited((m) => {
      const colour = channels === 1 ? 'grey' : 'rgb';
      m.input = { ...m.input, height, width, channels, preprocessing: { ...m.input.preprocessing, colour } };
      m.normalization = { mean: Array(channels).fill(0.5), std: Array(channels).fill(0.25) };
    });
  await assert.rejects(
    load(claim(32, 32, 3)),
    failsWith(
      InferModelError,
      /^model \(model bytes\): metadata\.input\.height: expected 6 \(dim 2 of the graph input "input", dims \[N, 3, 6, 5\]\), received 32$/,
    ),
  );
  await assert.rejects(
    load(claim(100000, 100000, 3)),
    failsWith(InferModelError, /metadata\.input\.height: expected 6 .*received 100000/),
  );
  await assert.rejects(
    load(claim(6, 4, 3)),
    failsWith(
      InferModelError,
      /metadata\.input\.width: expected 5 \(dim 3 of the graph input "input", dims \[N, 3, 6, 5\]\), received 4/,
    ),
  );
  await assert.rejects(
    load(claim(6, 5, 1)),
    failsWith(InferModelError, /metadata\.input\.channels: expected 3 \(dim 1 .*received 1/),
  );
});

test('metadata with more labels than the graph has classes is refused at load', async () => {
  const eleven = edited((m) => {
    m.labels = [...m.labels, 'extra'];
    m.architecture = { ...m.architecture, numClasses: 11 };
  });
  await assert.rejects(
    load(eleven),
    failsWith(
      InferModelError,
      /^model \(model bytes\): metadata\.labels: expected 10 labels \(dim 1 of the graph output "logits", dims \[N, 10\]\), received "11 labels"$/,
    ),
  );
});

test("duplicated labels are refused at load, naming the entry; any other list is the model's own", async () => {
  const dup = edited((m) => (m.labels[4] = m.labels[2]));
  await assert.rejects(
    load(dup),
    failsWith(
      DepthfoldInputError,
      /^model \(model bytes\): labels\[4\]: expected a label unlike every other \(labels\[2\] is the same\), received "bird"$/,
    ),
  );
  const reversed = await load(edited((m) => m.labels.reverse()));
  assert.equal(reversed.info.labels[0], 'truck');
  await reversed.dispose();
});

test('normalisation that would give NaN (std 1e-300, mean 1e308) is refused at load', async () => {
  const norm = (mean: number, std: number) =>
    edited((m) => (m.normalization = { mean: [mean, 0.5, 0.5], std: [std, 0.25, 0.25] }));
  await assert.rejects(
    load(norm(0.5, 1e-300)),
    failsWith(
      DepthfoldInputError,
      /^model \(model bytes\): normalization\.std\[0\]: expected a number >= 0\.001, received 1e-300$/,
    ),
  );
  await assert.rejects(
    load(norm(1e308, 0.25)),
    failsWith(DepthfoldInputError, /normalization\.mean\[0\]: expected a number <= 1, received 1e\+308/),
  );
});

test('a model that answers NaN is an error from classify and logits, never a NaN probability', async () => {
  // The Gemm's bias set to NaN, and the file stamped again: a model whose weights went bad before export.
  const nan = structuredClone(model);
  const gemm = nan.graph!.node!.find((n) => n.op_type === 'Gemm')!;
  const bias = nan.graph!.initializer!.find((t) => t.name === gemm.input![2])!;
  const values = new Float32Array(10).fill(0.1);
  values[7] = Number.NaN;
  bias.raw_data = new Uint8Array(values.buffer);
  const classifier = await load(restamp(encodeModel(nan)));
  try {
    await assert.rejects(
      classifier.classify([randomImage(1), randomImage(2)]),
      failsWith(
        InferModelError,
        /^model \(model bytes\): logits of images\[0\]: expected finite numbers \(class 7, "horse"\); the model's weights may be corrupt, received "NaN"$/,
      ),
    );
    await assert.rejects(
      classifier.logits(randomImage(3)),
      failsWith(InferModelError, /logits of images\[0\]: .*received "NaN"/),
    );
  } finally {
    await classifier.dispose();
  }
});
