// Reading Triton's config.pbtxt: the text format as configs write it (comments, optional colons and separators,
// lists, nested messages, escapes), the ModelConfig fields the server uses with Triton's version policies, and the
// refusals that name the field and line; a config that does not describe its model keeps it out of service with the
// reason in the index.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as onnx from '@depthfold/onnx';
import { tritonModelConfig } from '@depthfold/onnx/node';
import { CASES, metadataFor, randomCheckpoint } from '@depthfold/testing';
import { ModelRepository, parseModelConfig, parseTextFormat, TextFormatError, versionsToServe } from '../src/index.js';
import { smallCheckpoint, writeTritonModel } from './repository-fixtures.js';

test("export's config.pbtxt reads back as written", () => {
  const metadata = metadataFor(onnx, randomCheckpoint(CASES[1]!), true);
  const config = parseModelConfig(
    tritonModelConfig('r8', metadata, { maxBatchSize: 32, maxQueueDelayMicroseconds: 500 }),
  );
  assert.deepEqual(config, {
    name: 'r8',
    platform: 'onnxruntime_onnx',
    maxBatchSize: 32,
    inputs: [{ name: 'input', data_type: 'TYPE_FP32', dims: [3, 32, 32] }],
    outputs: [{ name: 'logits', data_type: 'TYPE_FP32', dims: [10], label_filename: 'labels.txt' }],
    dynamicBatching: true,
    maxQueueDelayMicroseconds: 500,
    versionPolicy: { latest: { num_versions: 1 } },
    defaultModelFilename: 'model.onnx',
  });
});

test('the text format as people write it: colons, separators, lists of messages, angle brackets, escapes', () => {
  const text = [
    '# a comment',
    'name: \'m\\\'1\'  ; platform: "onnx" "runtime_onnx"',
    'max_batch_size: 0x10,',
    'input [ { name: "input", data_type: TYPE_FP32, dims: [ 1, 28, 28 ] } ]',
    'output < name: "logits" data_type: TYPE_FP32 dims: [10] label_filename: "l\\x61bels.txt" >',
    'output { name: "second" data_type: TYPE_FP32 dims: 10 }',
    'dynamic_batching { }',
    'instance_group [ { count: 2, kind: KIND_CPU }, { kind: KIND_CPU } ]',
    'version_policy: { specific: { versions: [ 1, 3 ] } }',
    'default_model_filename: "net.onnx"',
  ].join('\n');
  const parsed = parseTextFormat(text);
  assert.deepEqual(
    [...parsed.keys()],
    [
      'name',
      'platform',
      'max_batch_size',
      'input',
      'output',
      'dynamic_batching',
      'instance_group',
      'version_policy',
      'default_model_filename',
    ],
  );
  const config = parseModelConfig(text);
  assert.equal(config.name, "m'1");
  assert.equal(config.platform, 'onnxruntime_onnx', 'adjacent strings are one');
  assert.equal(config.maxBatchSize, 16);
  assert.deepEqual(
    config.outputs.map((o) => [o.name, o.dims, o.label_filename]),
    [
      ['logits', [10], 'labels.txt'],
      ['second', [10], undefined],
    ],
  );
  assert.equal(config.dynamicBatching, true);
  assert.equal(config.maxQueueDelayMicroseconds, undefined, 'an empty dynamic_batching leaves the delay to the server');
  assert.equal(config.instances, 3);
  assert.deepEqual(config.versionPolicy, { specific: { versions: [1, 3] } });
  assert.equal(config.defaultModelFilename, 'net.onnx');
  assert.deepEqual(parseModelConfig('version_policy { all { } }').versionPolicy, { all: {} });
  assert.deepEqual(parseModelConfig('version_policy: { latest: { num_versions: 2 } }').versionPolicy, {
    latest: { num_versions: 2 },
  });
  assert.equal(parseModelConfig('name: "x"').dynamicBatching, false, 'no dynamic_batching: each request alone');
});

test('refusals name the field or line', () => {
  const cases: [string, RegExp][] = [
    [
      'name: "x"\nmax_batch_size: "8"',
      /config\.pbtxt max_batch_size: expected an integer >= 0, received "8" \(line 2\)/,
    ],
    [
      'sequence_batching { }',
      /config\.pbtxt sequence_batching: not supported by depthfold serve \(it reads name, platform/,
    ],
    ['name: "open', /line 1: string not closed on its line/],
    ['input [ { name: "a" } ', /line 1: expected , or \] in the list of input|expected a field name or \}/],
    ['name "x"', /line 1: expected : or \{ after a field name/],
    ['name: "a"\nname: "b"', /config\.pbtxt name: expected one value, received "b" \(line 2\)/],
    [
      'input { name: "a" data_type: "TYPE_FP32" }',
      /input\[0\]\.data_type: expected a type such as TYPE_FP32, received "TYPE_FP32"/,
    ],
    [
      'input { name: "a" data_type: TYPE_FP32 dims: [ -2 ] }',
      /input\[0\]\.dims\[0\]: expected an integer >= -1, received -2/,
    ],
    ['version_policy { latest { num_versions: 0 } }', /version_policy\.latest\.num_versions: expected an integer >= 1/],
    ['version_policy { specific { } }', /version_policy\.specific\.versions: expected at least one version/],
    ['instance_group { count: 0 }', /instance_group\[0\]\.count: expected an integer >= 1, received 0/],
    ['name: @', /line 1: unexpected character "@"/],
  ];
  for (const [text, pattern] of cases) assert.throws(() => parseModelConfig(text), pattern, text);
  assert.throws(() => parseTextFormat('name: "x'), TextFormatError);
});

test("versions served: Triton's latest (default 1), all and specific", () => {
  const found = ['1', '3', '10', '2'];
  assert.deepEqual(versionsToServe({ latest: { num_versions: 1 } }, found), ['10']);
  assert.deepEqual(versionsToServe({ latest: { num_versions: 2 } }, found), ['10', '3']);
  assert.deepEqual(versionsToServe({ all: {} }, found), ['10', '3', '2', '1']);
  assert.deepEqual(versionsToServe({ specific: { versions: [1, 3, 7] } }, found), ['3', '1']);
});

test('a config.pbtxt that does not describe its model keeps it out of service, with the reason in the index', async () => {
  const root = mkdtempSync(join(tmpdir(), 'depthfold-config-'));
  try {
    const bad: [string, (text: string) => string, RegExp][] = [
      [
        'dims',
        (t) => t.replace('dims: [ 1, 28, 28 ]', 'dims: [ 3, 28, 28 ]'),
        /input\[0\]\.dims: expected \[1, 28, 28\] \(the model's, without the batch dimension\), received \[3, 28, 28\]/,
      ],
      [
        'named',
        (t) => t.replace('name: "named"', 'name: "other"'),
        /config\.pbtxt name: expected "named" \(the folder's name\), received "other"/,
      ],
      [
        'unbatched',
        (t) => t.replace('max_batch_size: 8', 'max_batch_size: 0'),
        /max_batch_size: expected an integer >= 1/,
      ],
      [
        'tensor',
        (t) => t.replace('name: "logits"', 'name: "probabilities"'),
        /output: expected one tensor "logits" \(the model's\), received probabilities/,
      ],
      ['allversions', (t) => `${t}version_policy: { all { } }\n`, /^$/],
    ];
    for (const [name, edit] of bad) {
      await writeTritonModel(root, name, smallCheckpoint());
      const path = join(root, name, 'config.pbtxt');
      const { readFileSync } = await import('node:fs');
      writeFileSync(path, edit(readFileSync(path, 'utf8')));
    }
    // A second version for the model whose policy serves all.
    await writeTritonModel(root, 'extra', smallCheckpoint(3));
    const { addVersion } = await import('./repository-fixtures.js');
    await addVersion(root, 'allversions', smallCheckpoint(4), '2');
    const repository = await ModelRepository.open({ root });
    try {
      const entries = await repository.index();
      for (const [name, , pattern] of bad) {
        const entry = entries.find((e) => e.name === name)!;
        if (name === 'allversions') continue;
        assert.equal(entry.state, 'UNAVAILABLE', name);
        assert.match(entry.reason, pattern, name);
      }
      assert.deepEqual(
        entries.filter((e) => e.name === 'allversions').map((e) => [e.version, e.state]),
        [
          ['1', 'READY'],
          ['2', 'READY'],
        ],
        'version_policy all serves every version folder',
      );
      assert.equal(repository.model('allversions').spec.version, '2', 'a request without a version goes to the latest');
      assert.deepEqual(repository.metadata('allversions').versions, ['2', '1']);
      assert.deepEqual(repository.loadedNames, ['allversions', 'extra']);
    } finally {
      await repository.close();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
