// Reading the metadata back from model bytes, the errors for bytes that are not our models, atomic writes, and
// the browser-safety of everything but the node entry.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createRng, DepthfoldInputError, encodeCheckpoint, modelMetadataSchema } from '@depthfold/core';
import { buildModel, encodeModel, readModelMetadata, type ModelProto } from '../src/index.js';
import { writeModelFile } from '../src/node.js';
import { CASES, randomCheckpoint } from '@depthfold/testing';
import { metadataFor } from './source-writer.js';

const checkpoint = randomCheckpoint(CASES[0]!);
const metadata = metadataFor(checkpoint, true);
const model = buildModel(checkpoint, metadata, { folded: true });

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

test('readModelMetadata returns what buildModel wrote', () => {
  const read = readModelMetadata(encodeModel(model), 'model.onnx');
  assert.deepEqual(read, modelMetadataSchema.parse(metadata));
  assert.equal(read.folded, true);
  assert.deepEqual(read.schedule?.survivalProbs, checkpoint.info.schedule.survivalProbs);
});

test('readModelMetadata ignores metadata_props of other tools', () => {
  const bytes = withProps(model, (props) => props.set('converted_by', 'someone else'));
  assert.deepEqual(readModelMetadata(bytes, 'model.onnx'), modelMetadataSchema.parse(metadata));
});

test('readModelMetadata rejects bytes that are not an ONNX model', () => {
  for (let seed = 1; seed <= 20; seed++) {
    const rng = createRng(seed);
    const bytes = Uint8Array.from({ length: 1000 }, () => Math.floor(rng.next() * 256));
    assert.throws(
      () => readModelMetadata(bytes, `random-${seed}.bin`),
      inputError(new RegExp(`random-${seed}\\.bin.*ONNX model`)),
    );
  }
  assert.throws(
    () => readModelMetadata(new Uint8Array(0), 'empty.onnx'),
    inputError(/empty\.onnx graph: expected an ONNX model/),
  );
  assert.throws(
    () => readModelMetadata(encodeCheckpoint(checkpoint), 'ckpt.safetensors'),
    inputError(/ckpt\.safetensors.*ONNX model/),
  );
});

test('readModelMetadata names the missing key of a model without our metadata', () => {
  const bare = encodeModel({ ...model, metadata_props: [] });
  assert.throws(
    () => readModelMetadata(bare, 'bare.onnx'),
    inputError(/model bare\.onnx: metadata_props\.formatVersion: expected a depthfold metadata entry/),
  );
  const partial = withProps(model, (props) => props.delete('normalization'));
  assert.throws(() => readModelMetadata(partial, 'partial.onnx'), inputError(/metadata_props\.normalization/));
});

test('provenance is optional: a model with only what a runtime needs reads', () => {
  const provenance = ['architecture', 'schedule', 'dataset', 'metrics', 'checkpoint'];
  const bare = withProps(model, (props) => {
    for (const key of provenance) props.delete(key);
  });
  const read = readModelMetadata(bare, 'bare.onnx');
  assert.deepEqual(read.labels, metadata.labels);
  for (const key of provenance) assert.equal(read[key as keyof typeof read], undefined);
});

test('readModelMetadata names the field that fails the schema', () => {
  const layout = withProps(model, (props) => props.set('input', JSON.stringify({ ...metadata.input, layout: 'NHWC' })));
  assert.throws(
    () => readModelMetadata(layout, 'nhwc.onnx'),
    inputError(/model nhwc\.onnx: input\.layout: .*received "NHWC"/),
  );
  const depth = withProps(model, (props) =>
    props.set('architecture', JSON.stringify({ ...metadata.architecture, depth: 'eight' })),
  );
  assert.throws(() => readModelMetadata(depth, 'depth.onnx'), inputError(/architecture\.depth/));
  const labels = withProps(model, (props) => props.set('labels', JSON.stringify(['a', 'b', 'c'])));
  assert.throws(() => readModelMetadata(labels, 'labels.onnx'), inputError(/labels: expected 10 labels/));
  const garbled = withProps(model, (props) => props.set('metrics', '{not json'));
  assert.throws(() => readModelMetadata(garbled, 'garbled.onnx'), inputError(/metadata_props\.metrics: expected JSON/));
});

test('buildModel refuses metadata that does not describe the checkpoint or the form', () => {
  assert.throws(() => buildModel(checkpoint, metadata, { folded: false }), inputError(/folded: expected false/));
  const wrongProbs = { ...metadata, schedule: { ...metadata.schedule!, survivalProbs: [1, 1, 1] } };
  assert.throws(() => buildModel(checkpoint, wrongProbs, { folded: true }), inputError(/schedule\.survivalProbs/));
  const wrongArch = { ...metadata, architecture: { ...metadata.architecture!, shortcut: 'projection' as const } };
  assert.throws(
    () => buildModel(checkpoint, wrongArch, { folded: true }),
    inputError(/architecture: expected the checkpoint's architecture/),
  );
  const invalid = { ...metadata, labels: ['only one'] };
  assert.throws(() => buildModel(checkpoint, invalid, { folded: true }), inputError(/labels/));
});

test('writeModelFile replaces the target and leaves no temporary file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'depthfold-onnx-write-'));
  try {
    const path = join(dir, 'model.onnx');
    await writeModelFile(path, new Uint8Array([1, 2, 3]));
    const bytes = encodeModel(model);
    await writeModelFile(path, bytes);
    assert.deepEqual(new Uint8Array(readFileSync(path)), new Uint8Array(bytes));
    assert.deepEqual(readdirSync(dir), ['model.onnx']);
    await writeModelFile(join(dir, 'sub', 'model.onnx'), bytes);
    assert.deepEqual(readdirSync(join(dir, 'sub')), ['model.onnx']);
    await assert.rejects(writeModelFile(join(dir, 'model.onnx', 'inside-a-file.onnx'), bytes));
    assert.deepEqual(readdirSync(dir).sort(), ['model.onnx', 'sub']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('src/ outside the node entry imports no node API, tfjs or onnxruntime', () => {
  const src = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');
  const nodeOnly = new Set(['node.ts', 'write-model-file.ts', 'stamp-model-file.ts', 'triton-repository.ts']);
  for (const file of readdirSync(src).filter((f) => f.endsWith('.ts') && !nodeOnly.has(f))) {
    const text = readFileSync(join(src, file), 'utf8');
    const imports = [...text.matchAll(/from '([^']+)'/g)].map((m) => m[1]!);
    for (const spec of imports) {
      assert.ok(!/^node:|^(fs|path|os|crypto)$|tfjs|onnxruntime/.test(spec), `${file} imports ${spec}`);
    }
    assert.ok(!/\bprocess\.|\bBuffer\b|console\./.test(text), `${file} uses process, Buffer or console`);
  }
});
