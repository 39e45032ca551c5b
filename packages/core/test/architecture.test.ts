import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeCost, parameterSpecs, residualBlocks, resnetSpec } from '../src/index.js';

const fashion = { height: 28, width: 28, channels: 1 };

test('ResNet-20 on 28x28: 9 blocks, widths 16/32/64, sizes 28/14/7, option A where the shape changes', () => {
  const spec = resnetSpec({ depth: 20, input: fashion, numClasses: 10 });
  const blocks = residualBlocks(spec);
  assert.equal(blocks.length, 9);
  assert.deepEqual(
    blocks.map((b) => b.index),
    [1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
  assert.deepEqual(
    blocks.map((b) => b.outChannels),
    [16, 16, 16, 32, 32, 32, 64, 64, 64],
  );
  assert.deepEqual(
    blocks.map((b) => b.outSize[0]),
    [28, 28, 28, 14, 14, 14, 7, 7, 7],
  );
  assert.deepEqual(
    blocks.map((b) => b.shortcut),
    ['identity', 'identity', 'identity', 'A', 'identity', 'identity', 'A', 'identity', 'identity'],
  );
  assert.equal(blocks[3]!.stride, 2);
  assert.equal(blocks[3]!.name, 'stage2.block0');
});

test('32x32x3 input gives 32/16/8; projection shortcuts add a 1x1 conv and a BN', () => {
  const spec = resnetSpec({
    depth: 8,
    input: { height: 32, width: 32, channels: 3 },
    numClasses: 100,
    shortcut: 'projection',
  });
  assert.deepEqual(
    residualBlocks(spec).map((b) => b.outSize[0]),
    [32, 16, 8],
  );
  const names = parameterSpecs(spec).map((p) => p.name);
  assert.ok(names.includes('stage2.block0.proj'));
  assert.ok(names.includes('stage3.block0.proj_bn.variance'));
  assert.ok(!names.includes('stage1.block0.proj'));
  assert.deepEqual(parameterSpecs(spec).find((p) => p.name === 'stem.conv')!.shape, [3, 3, 3, 16]);
  assert.deepEqual(parameterSpecs(spec).find((p) => p.name === 'head.weight')!.shape, [64, 100]);
});

test('ResNet-20 has about 0.27M parameters, as in He et al.', () => {
  const spec = resnetSpec({ depth: 20, input: { height: 32, width: 32, channels: 3 }, numClasses: 10 });
  const trainable = parameterSpecs(spec)
    .filter((p) => p.trainable)
    .reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
  assert.ok(trainable > 0.26e6 && trainable < 0.28e6, `${trainable}`);
});

test('depth must be 6n+2', () => {
  assert.throws(
    () => resnetSpec({ depth: 21, input: fashion, numClasses: 10 }),
    /depth: expected an integer 6n\+2.*received 21/,
  );
  assert.throws(() => resnetSpec({ depth: 20, input: { ...fashion, channels: 0 }, numClasses: 10 }), /input.channels/);
});

test('compute cost: branches of equal stages cost the same; stage transitions are cheaper than stage 1', () => {
  const cost = computeCost(resnetSpec({ depth: 20, input: fashion, numClasses: 10 }));
  assert.equal(cost.branches.length, 9);
  assert.equal(cost.branches[1], cost.branches[2]);
  assert.equal(cost.branches[0], 28 * 28 * 9 * 16 * 16 * 2);
  assert.ok(cost.branches[3]! < cost.branches[0]!);
});
