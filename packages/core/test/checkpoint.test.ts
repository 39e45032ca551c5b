import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeCheckpoint,
  decodeSafetensors,
  encodeCheckpoint,
  encodeSafetensors,
  parameterSpecs,
  resolveArchitecture,
  topologyOf,
  survivalProbs,
  trainConfigSchema,
  type Checkpoint,
} from '../src/index.js';

function sampleCheckpoint(): Checkpoint {
  const architecture = resolveArchitecture({ arch: 'resnet8' }, { height: 28, width: 28, channels: 1 }, 10);
  const params = new Map(
    parameterSpecs(topologyOf(architecture)).map((p) => {
      const size = p.shape.reduce((a, b) => a * b, 1);
      return [
        p.name,
        { shape: p.shape, data: Float32Array.from({ length: size }, (_, i) => Math.sin(i + p.name.length)) },
      ] as const;
    }),
  );
  const config = trainConfigSchema.parse({ arch: 'resnet8' });
  return {
    info: {
      formatVersion: 1,
      config,
      architecture,
      schedule: { rule: 'linear', survivalProb: 0.5, survivalProbs: survivalProbs('linear', 3, 0.5) },
      normalization: { mean: [0.286], std: [0.353] },
      labels: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'],
      dataset: { name: 'fashion-mnist', trainExamples: 60000 },
      epoch: 2,
      step: 900,
      metrics: { epochs: 2, steps: 900, testError: 0.1 },
    },
    params,
    momentum: new Map([['stem.conv', { shape: [3, 3, 1, 16], data: new Float32Array(144).fill(0.5) }]]),
  };
}

test('a checkpoint survives a round trip bit for bit', () => {
  const original = sampleCheckpoint();
  const decoded = decodeCheckpoint(encodeCheckpoint(original), 'mem');
  assert.deepEqual(decoded.info, original.info);
  assert.equal(decoded.params.size, original.params.size);
  for (const [name, t] of original.params) assert.deepEqual(decoded.params.get(name)!.data, t.data);
  assert.deepEqual(decoded.momentum.get('stem.conv')!.data, original.momentum.get('stem.conv')!.data);
});

test('safetensors data is 8-byte aligned and readable back', () => {
  const bytes = encodeSafetensors(new Map([['x', { shape: [2], data: new Float32Array([1, 2]) }]]), { k: 'v' });
  const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal((8 + headerLength) % 8, 0);
  const back = decodeSafetensors(bytes, 'mem');
  assert.deepEqual([...back.tensors.get('x')!.data], [1, 2]);
  assert.equal(back.metadata.k, 'v');
});

test('corrupt checkpoints give errors naming what is wrong', () => {
  const bytes = encodeCheckpoint(sampleCheckpoint());
  assert.throws(
    () => decodeCheckpoint(bytes.subarray(0, 4), 'a.safetensors'),
    /a.safetensors: expected a safetensors file/,
  );
  assert.throws(
    () => decodeCheckpoint(bytes.subarray(0, bytes.length - 10), 'b.safetensors'),
    /b.safetensors tensor .*: expected \d+ bytes inside the file/,
  );
  const noInfo = encodeSafetensors(new Map(), {});
  assert.throws(() => decodeCheckpoint(noInfo, 'c'), /c metadata.depthfold: expected a depthfold checkpoint record/);
  const wrong = sampleCheckpoint();
  wrong.params.get('stem.conv')!.shape = [3, 3, 16, 1];
  assert.throws(
    () => decodeCheckpoint(encodeCheckpoint(wrong), 'd'),
    /d tensor stem.conv: expected shape \[3, 3, 1, 16\], received "\[3, 3, 16, 1\]"/,
  );
  const missing = sampleCheckpoint();
  missing.params.delete('head.bias');
  assert.throws(
    () => decodeCheckpoint(encodeCheckpoint(missing), 'e'),
    /e tensor head.bias: expected shape \[10\], received nothing/,
  );
  const badInfo = sampleCheckpoint();
  (badInfo.info as { epoch: number }).epoch = -1;
  assert.throws(() => decodeCheckpoint(encodeCheckpoint(badInfo), 'f'), /checkpoint f: epoch/);
});

test('the train config rejects bad fields by name', () => {
  assert.equal(trainConfigSchema.parse({}).arch, 'resnet20');
  assert.throws(() => trainConfigSchema.parse({ depth: 0 }), /depth/);
  assert.throws(() => trainConfigSchema.parse({ inputSize: '64x' }), /inputSize[\s\S]*a size H or HxW/);
  assert.throws(() => trainConfigSchema.parse({ survivalProb: 0 }));
  assert.throws(() => trainConfigSchema.parse({ unknownOption: 1 }));
});
