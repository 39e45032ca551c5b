// The digest of graph and weights: what it covers (all but metadata_props), that SubtleCrypto and node:crypto agree,
// that it is stable under metadata edits and re-stamping, that stamping keeps every other byte, the stamping of model
// files, and the metadata schema's new checks (sane normalisation, the dataset's labels in order).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  DepthfoldInputError,
  modelMetadataSchema,
  parseModelMetadata,
  parseWith,
  type ModelMetadata,
} from '@depthfold/core';
import {
  buildModel,
  decodeModelHeader,
  encodeModel,
  integrityPayload,
  metadataToProps,
  modelDigest,
  readModelMetadata,
  stampIntegrity,
  wireRecords,
  withIntegrity,
  type ModelProto,
} from '../src/index.js';
import { stampModelFile } from '../src/node.js';
import { CASES, randomCheckpoint } from '@depthfold/testing';
import { metadataFor } from './source-writer.js';

const checkpoint = randomCheckpoint(CASES[0]!);
const stamped = metadataFor(checkpoint, true);
const { integrity: _, ...unstamped } = stamped;
const model = buildModel(checkpoint, unstamped, { folded: true });
const bytes = encodeModel(model);
const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');
// protobufjs gives Buffers in Node; the comparisons are of bytes.
const sameBytes = (actual: Uint8Array, expected: Uint8Array, message?: string): void =>
  assert.deepEqual(new Uint8Array(actual), new Uint8Array(expected), message);

function inputError(pattern: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof DepthfoldInputError, `not a DepthfoldInputError: ${String(e)}`);
    assert.match(e.message, pattern);
    return true;
  };
}

function withProps(m: ModelProto, edit: (props: Map<string, string>) => void): Uint8Array {
  const props = new Map(m.metadata_props!.map((p) => [p.key!, p.value!]));
  edit(props);
  return encodeModel({ ...m, metadata_props: [...props].map(([key, value]) => ({ key, value })) });
}

test('the payload is the model without its metadata_props; SubtleCrypto and node:crypto agree on its digest', async () => {
  sameBytes(integrityPayload(bytes), encodeModel({ ...model, metadata_props: [] }));
  assert.ok(integrityPayload(bytes).length < bytes.length);
  assert.equal(await modelDigest(bytes), sha256(integrityPayload(bytes)));
  assert.equal(await modelDigest(bytes), stamped.integrity!.sha256, 'the fixture computes the same digest');
});

test('the digest ignores the metadata and sees every other byte', async () => {
  const relabelled = withProps(model, (p) =>
    p.set('metrics', JSON.stringify({ epochs: 9, steps: 99 })).set('other_tool', 'x'),
  );
  assert.equal(await modelDigest(relabelled), await modelDigest(bytes));
  const header = wireRecords(bytes).find((r) => r.field === 7)!;
  for (const offset of [header.start + 100, Math.floor((header.start + header.end) / 2), header.end - 1]) {
    const changed = Uint8Array.from(bytes);
    changed[offset]! ^= 0x01;
    assert.notEqual(await modelDigest(changed), await modelDigest(bytes), `byte ${offset}`);
  }
});

test('stamping writes the digest into the metadata and keeps every other record byte for byte', async () => {
  const withOther = withProps(model, (p) => p.set('converted_by', 'another tool'));
  const out = await stampIntegrity(withOther);
  const read = readModelMetadata(out, 'stamped.onnx');
  assert.equal(read.integrity?.sha256, await modelDigest(withOther));
  sameBytes(integrityPayload(out), integrityPayload(withOther));
  // The other entries keep their order and text; the digest goes last.
  const keys = (b: Uint8Array) => (decodeModelHeader(b).metadata_props ?? []).map((p) => `${p.key}=${p.value}`);
  assert.deepEqual(keys(out).slice(0, -1), keys(withOther));
  assert.match(keys(out).at(-1)!, /^integrity=\{"sha256":"[0-9a-f]{64}"\}$/);
  // Stable: stamping again changes nothing, and a stale digest is replaced in place.
  sameBytes(await stampIntegrity(out), out);
  const stale = withIntegrity(out, '0'.repeat(64));
  assert.equal(readModelMetadata(stale, 's').integrity?.sha256, '0'.repeat(64));
  sameBytes(await stampIntegrity(stale), out);
});

test('the writer and the reader treat the digest as optional; the schema checks its form', () => {
  assert.ok(!metadataToProps(unstamped).some((p) => p.key === 'integrity'));
  assert.equal(readModelMetadata(bytes, 'old.onnx').integrity, undefined);
  assert.ok(metadataToProps(stamped).some((p) => p.key === 'integrity'));
  const bad = withProps(model, (p) => p.set('integrity', JSON.stringify({ sha256: 'abc' })));
  assert.throws(
    () => readModelMetadata(bad, 'bad.onnx'),
    inputError(/integrity\.sha256: expected a SHA-256 digest: 64 lowercase hex digits, received "abc"/),
  );
  assert.throws(() => withIntegrity(bytes, 'ABC'), inputError(/integrity\.sha256: expected 64 lowercase hex digits/));
});

test('bytes that do not split into protobuf records are not valid ONNX, naming the source', () => {
  assert.throws(
    () => integrityPayload(new TextEncoder().encode('this is not a model\n'), 'text.onnx'),
    inputError(
      /^text\.onnx: expected an ONNX model \(ModelProto\), received "20 bytes that are not valid ONNX \(wire type 4/,
    ),
  );
  assert.throws(
    () => integrityPayload(bytes.subarray(0, bytes.length - 1000), 'cut.onnx'),
    inputError(/cut\.onnx: .*not valid ONNX \(field 7 at byte \d+ runs past the end/),
  );
  assert.deepEqual(wireRecords(new Uint8Array(0)), []);
});

test('stampModelFile adds the digest to a file once, and refuses a file whose stored digest does not match', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'depthfold-stamp-'));
  try {
    const path = join(dir, 'old.onnx');
    writeFileSync(path, bytes);
    const first = await stampModelFile(path);
    assert.equal(first.action, 'stamped');
    const written = new Uint8Array(readFileSync(path));
    sameBytes(written.subarray(0, bytes.length), bytes, 'metadata_props are the last records: the file only grows');
    assert.equal(readModelMetadata(written, path).integrity?.sha256, first.sha256);
    assert.deepEqual(await stampModelFile(path), { path, action: 'unchanged', sha256: first.sha256 });
    const tampered = Uint8Array.from(written);
    tampered[wireRecords(written).find((r) => r.field === 7)!.end - 5]! ^= 0xff;
    writeFileSync(path, tampered);
    await assert.rejects(
      stampModelFile(path),
      inputError(
        /old\.onnx integrity\.sha256: expected [0-9a-f]{64}, the digest of its graph and weights \(pass --force to replace it\), received "[0-9a-f]{64}"/,
      ),
    );
    assert.equal((await stampModelFile(path, { force: true })).action, 'stamped');
    writeFileSync(path, 'not a model');
    await assert.rejects(stampModelFile(path), inputError(/old\.onnx.*not valid ONNX/));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function parsedWith(edit: (m: ModelMetadata) => ModelMetadata): () => unknown {
  return () => parseWith(modelMetadataSchema, edit(structuredClone(stamped)), 'model m.onnx');
}

test('the schema requires finite, sane normalisation (mean 0..1, std 0.001..1)', () => {
  const norm = (mean: number, std: number) =>
    parsedWith((m) => ({ ...m, normalization: { mean: [mean], std: [std] } }));
  assert.throws(
    norm(0.5, 1e-300),
    inputError(/^model m\.onnx: normalization\.std\[0\]: expected a number >= 0\.001, received 1e-300$/),
  );
  assert.throws(norm(1e308, 0.25), inputError(/normalization\.mean\[0\]: expected a number <= 1, received 1e\+308/));
  assert.throws(norm(-0.1, 0.25), inputError(/normalization\.mean\[0\]: expected a number >= 0, received -0\.1/));
  assert.throws(norm(0.5, 1e6), inputError(/normalization\.std\[0\]: expected a number <= 1/));
  assert.throws(norm(0.5, Number.POSITIVE_INFINITY), inputError(/normalization\.std\[0\]/));
  assert.throws(norm(Number.NaN, 0.25), inputError(/normalization\.mean\[0\]/));
  assert.doesNotThrow(norm(0.2860405969887955, 0.3530242445149226));
  assert.doesNotThrow(norm(0, 1));
});

test("the schema refuses duplicated labels, naming the entry; any other list of labels is the model's choice", () => {
  const labels = (edit: (l: string[]) => string[]) => parsedWith((m) => ({ ...m, labels: edit([...m.labels]) }));
  assert.throws(
    labels((l) => l.map((x, i) => (i === 3 ? l[1]! : x))),
    inputError(
      /^model m\.onnx: labels\[3\]: expected a label unlike every other \(labels\[1\] is the same\), received "Trouser"$/,
    ),
  );
  assert.doesNotThrow(labels((l) => l.reverse()));
  assert.doesNotThrow(labels((l) => l.map((x, i) => (i === 9 ? 'Boot' : x))));
});

test("a format-1 model's labels must still be its dataset's, in order", () => {
  const v1 = (labels: (l: string[]) => string[]) => () => {
    const { input, ...rest } = structuredClone(stamped);
    const { preprocessing: _, ...inputV1 } = input;
    const { widthMultiplier: _w, ...options } = rest.architecture!;
    const architecture = {
      ...options,
      family: 'resnet-6n+2',
      blocksPerStage: 1,
      widths: [16, 32, 64],
      strides: [1, 2, 2],
    };
    const v1Fields = { formatVersion: 1, input: inputV1, architecture, labels: labels([...rest.labels]) };
    return parseModelMetadata({ ...rest, ...v1Fields }, 'model m.onnx');
  };
  assert.equal(v1((l) => l)().input.preprocessing.resize, 'exact');
  assert.throws(
    v1((l) => l.reverse()),
    inputError(
      /^model m\.onnx: labels\[0\]: expected "T-shirt\/top" \(label 0 of fashion-mnist\), received "Ankle boot"$/,
    ),
  );
  assert.throws(
    v1((l) => l.map((x, i) => (i === 9 ? 'Boot' : x))),
    inputError(/labels\[9\]: expected "Ankle boot"/),
  );
});
