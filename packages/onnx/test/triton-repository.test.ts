// The Triton model repository of `pnpm export --triton`: config.pbtxt parses strictly as a Triton ModelConfig
// (python3-protobuf against Triton's field numbers, triton-config-check.py) and names exactly what the ONNX model
// has; a config naming an input the model lacks, or wrong dims, labels or fields, fails that check.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { buildModel, encodeModel } from '../src/index.js';
import {
  LABEL_FILENAME,
  tritonModelConfig,
  tritonRepositoryFiles,
  writeTritonRepository,
} from '../src/triton-repository.js';
import { CASES, randomCheckpoint } from '@depthfold/testing';
import { metadataFor } from './source-writer.js';

const PYTHON = '/usr/bin/python3';
const CHECKER = fileURLToPath(new URL('./triton-config-check.py', import.meta.url));

function checkDir(dir: string): { status: number | null; output: string } {
  const r = spawnSync(PYTHON, [CHECKER, dir], { encoding: 'utf8' });
  if (r.error)
    assert.fail(`${PYTHON} did not run (${r.error.message}); install python3-onnx (it brings python3-protobuf)`);
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

function withTempDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'depthfold-triton-'));
  return body(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('python3-protobuf and python3-onnx are importable (the checks below need them)', () => {
  const r = spawnSync(PYTHON, ['-c', 'from google.protobuf import text_format, descriptor_pool; import onnx'], {
    encoding: 'utf8',
  });
  assert.equal(
    r.status,
    0,
    `${PYTHON} cannot import google.protobuf and onnx: ${r.stderr || r.error?.message}; apt-get install python3-onnx`,
  );
});

test('the generated repository of each test model passes the Triton config check', async () => {
  await withTempDir(async (dir) => {
    for (const c of CASES) {
      const checkpoint = randomCheckpoint(c);
      const metadata = metadataFor(checkpoint, true);
      const bytes = encodeModel(buildModel(checkpoint, metadata, { folded: true }));
      const written = await writeTritonRepository(dir, c.label, bytes, metadata);
      assert.deepEqual(written, [
        join(dir, c.label, '1', 'model.onnx'),
        join(dir, c.label, 'config.pbtxt'),
        join(dir, c.label, LABEL_FILENAME),
      ]);
      assert.ok(readFileSync(written[0]!).equals(Buffer.from(bytes)), 'model.onnx holds the model bytes');
      assert.deepEqual(readFileSync(written[2]!, 'utf8').split('\n'), [...metadata.labels, '']);
      const r = checkDir(join(dir, c.label));
      assert.equal(r.status, 0, r.output);
    }
  });
});

test('the config names the model, platform, batching, tensors without the batch dim, and the label file', () => {
  const checkpoint = randomCheckpoint(CASES[1]!);
  const metadata = metadataFor(checkpoint, true);
  const text = tritonModelConfig('r8', metadata, { maxBatchSize: 32, maxQueueDelayMicroseconds: 500 });
  for (const line of [
    'name: "r8"',
    'platform: "onnxruntime_onnx"',
    'max_batch_size: 32',
    'name: "input"',
    'dims: [ 3, 32, 32 ]',
    'name: "logits"',
    'dims: [ 10 ]',
    'label_filename: "labels.txt"',
    'max_queue_delay_microseconds: 500',
  ]) {
    assert.ok(text.includes(line), `config has ${line}:\n${text}`);
  }
  assert.equal((text.match(/data_type: TYPE_FP32/g) ?? []).length, 2);
  assert.throws(() => tritonModelConfig('../x', metadata), /name: expected letters, digits/);
  assert.throws(() => tritonModelConfig('x', metadata, { maxBatchSize: 0 }), /maxBatchSize: expected an integer >= 1/);
  const broken = { ...metadata, labels: ['a\nb', ...metadata.labels.slice(1)] };
  assert.throws(
    () => tritonRepositoryFiles('x', new Uint8Array(), broken),
    /labels\[0\]: expected a label without line breaks/,
  );
});

test('the check fails a config that names an input the model lacks, wrong dims, labels, types or fields', async () => {
  await withTempDir(async (dir) => {
    const checkpoint = randomCheckpoint(CASES[0]!);
    const metadata = metadataFor(checkpoint, true);
    await writeTritonRepository(dir, 'm', encodeModel(buildModel(checkpoint, metadata, { folded: true })), metadata);
    const configPath = join(dir, 'm', 'config.pbtxt');
    const labelsPath = join(dir, 'm', LABEL_FILENAME);
    const config = readFileSync(configPath, 'utf8');
    const labels = readFileSync(labelsPath, 'utf8');
    const cases: [string, string, RegExp][] = [
      [
        config.replace('name: "input"', 'name: "pixels"'),
        labels,
        /input 'pixels' is not an input of the model[\s\S]*model's input 'input' is missing/,
      ],
      [config.replace('name: "logits"', 'name: "probs"'), labels, /output 'probs' is not an output of the model/],
      [
        config.replace('dims: [ 1, 28, 28 ]', 'dims: [ 3, 28, 28 ]'),
        labels,
        /input 'input': dims \[3, 28, 28\], but the model's are \[1, 28, 28\]/,
      ],
      [config.replace('dims: [ 10 ]', 'dims: [ 1, 10 ]'), labels, /output 'logits': dims \[1, 10\]/],
      [
        config.replace('data_type: TYPE_FP32', 'data_type: TYPE_UINT8'),
        labels,
        /input 'input': data_type TYPE_UINT8, but the model's is TYPE_FP32/,
      ],
      [config.replace('name: "m"', 'name: "other"'), labels, /name 'other' is not the directory's name 'm'/],
      [config.replace('max_batch_size: 64', 'max_batch_size: 0'), labels, /max_batch_size 0/],
      [
        config.replace('max_batch_size: 64', 'max_batch_size: 64\nmax_batch: 3'),
        labels,
        /does not parse as a Triton ModelConfig/,
      ],
      [config.replace('data_type: TYPE_FP32', 'data_type: FP32'), labels, /does not parse/],
      [config, labels.split('\n').slice(1).join('\n'), /holds 9 labels for 10 classes/],
    ];
    for (const [text, labelText, pattern] of cases) {
      writeFileSync(configPath, text);
      writeFileSync(labelsPath, labelText);
      const r = checkDir(join(dir, 'm'));
      assert.equal(r.status, 1, `expected the check to fail for:\n${text}`);
      assert.match(r.output, pattern);
    }
  });
});
