// The shared fixtures: seeded checkpoints that core accepts and that reproduce, model metadata and bytes from a writer
// passed in (its digest over the payload the writer names), seeded pixels, and temporary files that clean up.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { type Checkpoint, decodeCheckpoint, encodeCheckpoint, type ModelMetadata } from '@depthfold/core';
import {
  CASES,
  metadataFor,
  type ModelWriter,
  modelBytesOf,
  randomCheckpoint,
  randomPixels,
  tempFile,
  unstampedMetadataFor,
} from '../src/index.js';

test('randomCheckpoint reproduces from its seed, differs across seeds, and is a checkpoint core accepts', () => {
  const [a, b] = [randomCheckpoint(CASES[0]!), randomCheckpoint(CASES[0]!)];
  assert.deepEqual(a, b);
  const other = randomCheckpoint({ ...CASES[0]!, seed: 99 });
  const first = [...a.params.keys()][0]!;
  assert.notDeepEqual(other.params.get(first)!.data, a.params.get(first)!.data);
  for (const c of CASES) {
    const checkpoint = randomCheckpoint(c);
    assert.deepEqual(decodeCheckpoint(encodeCheckpoint(checkpoint), c.label), checkpoint);
    assert.deepEqual(checkpoint.info.architecture.input, c.input);
    assert.equal(checkpoint.info.config.arch, c.arch);
    assert.equal(checkpoint.info.architecture.shortcut, c.options?.shortcut ?? 'A');
    assert.equal(checkpoint.info.dataset.name, c.input.channels === 1 ? 'fashion-mnist' : 'cifar10');
  }
});

test('randomCheckpoint takes a normalisation, else 0.5 and 0.25 per channel', () => {
  const [grey, colour] = CASES.map(randomCheckpoint) as [Checkpoint, Checkpoint];
  assert.deepEqual(grey.info.normalization, { mean: [0.5], std: [0.25] });
  assert.deepEqual(colour.info.normalization, { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] });
  const normalization = { mean: [0.4, 0.5, 0.6], std: [0.2, 0.25, 0.3] };
  assert.deepEqual(randomCheckpoint({ ...CASES[1]!, normalization }).info.normalization, normalization);
});

/** A writer whose "model" is its metadata as JSON, and whose payload is the model minus its first byte. */
function recordingWriter(): ModelWriter<string> & { built: boolean[] } {
  const built: boolean[] = [];
  return {
    built,
    modelMetadata: (checkpoint, sha256, folded) =>
      ({ checkpointSha256: sha256, folded, labels: checkpoint.info.labels }) as unknown as ModelMetadata,
    buildModel: (_, metadata, { folded }) => {
      built.push(folded);
      return JSON.stringify(metadata);
    },
    encodeModel: (model) => new TextEncoder().encode(model),
    integrityPayload: (bytes) => bytes.subarray(1),
  };
}

test("metadataFor stamps the digest of the writer's payload of the unstamped model, built as asked", () => {
  const writer = recordingWriter();
  const checkpoint = randomCheckpoint(CASES[0]!);
  const unstamped = unstampedMetadataFor(writer, checkpoint, false);
  const checkpointSha = createHash('sha256').update(encodeCheckpoint(checkpoint)).digest('hex');
  assert.deepEqual(unstamped, { checkpointSha256: checkpointSha, folded: false, labels: checkpoint.info.labels });
  const stamped = metadataFor(writer, checkpoint, false);
  const payload = new TextEncoder().encode(JSON.stringify(unstamped)).subarray(1);
  assert.deepEqual(stamped, {
    ...unstamped,
    integrity: { sha256: createHash('sha256').update(payload).digest('hex') },
  });
  assert.deepEqual(writer.built, [false]);
});

test('modelBytesOf encodes the model built with the stamped metadata, folded by default', () => {
  const writer = recordingWriter();
  const checkpoint = randomCheckpoint(CASES[0]!);
  const bytes = modelBytesOf(writer, checkpoint);
  assert.deepEqual(JSON.parse(new TextDecoder().decode(bytes)), metadataFor(writer, checkpoint, true));
  assert.deepEqual(writer.built, [true, true, true]);
});

test('randomPixels reproduces from its seed, spans 0..255, and takes seed 0 as 1', () => {
  const pixels = randomPixels(10_000, 5);
  assert.deepEqual(pixels, randomPixels(10_000, 5));
  assert.notDeepEqual(pixels, randomPixels(10_000, 6));
  assert.deepEqual(randomPixels(64, 0), randomPixels(64, 1));
  assert.equal(Math.min(...pixels), 0);
  assert.equal(Math.max(...pixels), 255);
});

test('tempFile writes its contents in a fresh directory named by the prefix, and cleanup removes it', () => {
  const file = tempFile('model.onnx', new Uint8Array([1, 2, 3]), 'depthfold-testing-');
  assert.match(file.dir, /depthfold-testing-[^/]+$/);
  assert.deepEqual([...readFileSync(file.path)], [1, 2, 3]);
  const other = tempFile('model.onnx', 'text');
  assert.notEqual(other.dir, file.dir);
  assert.equal(readFileSync(other.path, 'utf8'), 'text');
  file.cleanup();
  other.cleanup();
  assert.ok(!existsSync(file.dir) && !existsSync(other.dir));
});
