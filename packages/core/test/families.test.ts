// The two built-in families against their papers and torchvision: block counts, widths, sizes and shortcuts of the
// CIFAR ResNets, and the parameter counts and multiply-accumulates of torchvision's ImageNet ResNets (1000 classes,
// 224x224x3), which pin every layer's shape. Then the registry: names, options, and inputs that are too small.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  computeCost,
  decodeSafetensors,
  type Layer,
  networkNames,
  parameterSpecs,
  residualLayers,
  resolveArchitecture,
  topologyOf,
} from '../src/index.js';

const fashion = { height: 28, width: 28, channels: 1 };
const imagenet = { height: 224, width: 224, channels: 3 };

const trainableCount = (arch: string, input = imagenet, classes = 1000): number =>
  parameterSpecs(topologyOf(resolveArchitecture({ arch }, input, classes)))
    .filter((p) => p.trainable)
    .reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);

const ops = (layers: readonly Layer[]): string => layers.map((l) => l.op).join(' ');

test('resnet20 on 28x28: 9 blocks, widths 16/32/64, sizes 28/14/7, option A where the shape changes', () => {
  const blocks = residualLayers(topologyOf(resolveArchitecture({ arch: 'resnet20' }, fashion, 10)));
  assert.deepEqual(
    blocks.map((b) => b.index),
    [1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
  assert.deepEqual(
    blocks.map((b) => b.output.channels),
    [16, 16, 16, 32, 32, 32, 64, 64, 64],
  );
  assert.deepEqual(
    blocks.map((b) => b.output.height),
    [28, 28, 28, 14, 14, 14, 7, 7, 7],
  );
  assert.deepEqual(
    blocks.map((b) => ops(b.shortcut)),
    ['', '', '', 'subsample pad-channels', '', '', 'subsample pad-channels', '', ''],
  );
  assert.equal(blocks[3]!.name, 'stage2.block0');
  assert.equal(ops(blocks[3]!.branch), 'conv batch-norm relu conv batch-norm');
});

test('resnet-cifar with projection shortcuts on 32x32x3: 1x1 conv + BN where the shape changes', () => {
  const topology = topologyOf(
    resolveArchitecture(
      { arch: 'resnet8', overrides: { shortcut: 'projection' } },
      { height: 32, width: 32, channels: 3 },
      100,
    ),
  );
  assert.deepEqual(
    residualLayers(topology).map((b) => b.output.height),
    [32, 16, 8],
  );
  const specs = parameterSpecs(topology);
  const names = specs.map((p) => p.name);
  assert.ok(names.includes('stage2.block0.proj'));
  assert.ok(names.includes('stage3.block0.proj_bn.variance'));
  assert.ok(!names.includes('stage1.block0.proj'));
  assert.deepEqual(specs.find((p) => p.name === 'stem.conv')!.shape, [3, 3, 3, 16]);
  assert.deepEqual(specs.find((p) => p.name === 'head.weight')!.shape, [64, 100]);
  // A shortcut's parameters run whether or not the block is dropped; a branch's belong to its block.
  assert.equal(specs.find((p) => p.name === 'stage2.block0.proj')!.block, 0);
  assert.equal(specs.find((p) => p.name === 'stage2.block0.conv2')!.block, 2);
});

test('resnet20 has about 0.27M parameters, as in He et al.; a width multiplier of 2 has about 4x', () => {
  const cifar = { height: 32, width: 32, channels: 3 };
  const base = trainableCount('resnet20', cifar, 10);
  assert.ok(base > 0.26e6 && base < 0.28e6, `${base}`);
  const wide = parameterSpecs(
    topologyOf(resolveArchitecture({ arch: 'resnet20', overrides: { widthMultiplier: 2 } }, cifar, 10)),
  )
    .filter((p) => p.trainable)
    .reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
  assert.ok(wide / base > 3.9 && wide / base < 4.1, `${wide / base}`);
});

// torchvision.models.<name>(num_classes=1000): sum(p.numel() for p in model.parameters()).
const TORCHVISION_PARAMETERS = {
  resnet18: 11_689_512,
  resnet34: 21_797_672,
  resnet50: 25_557_032,
  resnet101: 44_549_160,
  resnet152: 60_192_808,
  wide_resnet50_2: 68_883_240,
};

for (const [arch, count] of Object.entries(TORCHVISION_PARAMETERS)) {
  test(`${arch} has torchvision's ${count} parameters`, () => assert.equal(trainableCount(arch), count));
}

test("resnet50 at 224 px costs torchvision's 4.09 G multiply-accumulates; stem and pool give 56x56 at the first block", () => {
  const topology = topologyOf(resolveArchitecture({ arch: 'resnet50' }, imagenet, 1000));
  const cost = computeCost(topology);
  const total = cost.stem + cost.head + [...cost.branches, ...cost.shortcuts].reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(total / 4.09e9 - 1) < 0.01, `${total}`);
  const blocks = residualLayers(topology);
  assert.equal(blocks.length, 16);
  assert.equal(blocks[0]!.input.height, 56);
  assert.equal(blocks.at(-1)!.output.height, 7);
  assert.equal(ops(blocks[0]!.branch), 'conv batch-norm relu conv batch-norm relu conv batch-norm');
  // torchvision v1.5: the stride is on the 3x3 conv of a bottleneck.
  const strided = blocks[3]!.branch.filter((l) => l.op === 'conv').map((l) => ('stride' in l ? l.stride : 0));
  assert.deepEqual(strided, [1, 2, 1]);
});

test('the small stem keeps the input size up to the first block', () => {
  const topology = topologyOf(
    resolveArchitecture({ arch: 'resnet18', overrides: { stem: 'small' } }, { height: 32, width: 32, channels: 3 }, 10),
  );
  assert.equal(residualLayers(topology)[0]!.input.height, 32);
  assert.equal(ops(topology.layers.slice(0, 3)), 'conv batch-norm relu');
});

test('an input smaller than the net takes is refused, naming the smallest that works', () => {
  assert.throws(
    () => resolveArchitecture({ arch: 'resnet50' }, { height: 16, width: 64, channels: 3 }, 10),
    /input\.height: expected at least 32 pixels.*received 16/,
  );
  assert.throws(
    () =>
      resolveArchitecture(
        { arch: 'resnet18', overrides: { stem: 'small' } },
        { height: 64, width: 4, channels: 3 },
        10,
      ),
    /input\.width: expected at least 8 pixels.*received 4/,
  );
  assert.doesNotThrow(() => resolveArchitecture({ arch: 'resnet50' }, { height: 32, width: 32, channels: 1 }, 10));
});

test('names, depths and options are checked against the family', () => {
  assert.ok(
    ['resnet20', 'resnet110', 'resnet1202', 'resnet18', 'resnet50', 'resnet152'].every((n) =>
      networkNames().includes(n),
    ),
  );
  assert.throws(
    () => resolveArchitecture({ arch: 'resnet21' }, fashion, 10),
    /arch: expected a network \(resnet8, .*received "resnet21"/,
  );
  assert.throws(
    () => resolveArchitecture({ arch: 'resnet20', overrides: { depth: 21 } }, fashion, 10),
    /depth: expected a depth 6n\+2/,
  );
  assert.throws(
    () => resolveArchitecture({ arch: 'resnet50', overrides: { depth: 51 } }, imagenet, 10),
    /depth: expected one of 18, 34, 50, 101, 152/,
  );
  assert.throws(
    () => resolveArchitecture({ arch: 'resnet50', overrides: { shortcut: 'A' } }, imagenet, 10),
    /shortcut: expected an option of resnet-imagenet \(depth, widthMultiplier, stem\), received "A"/,
  );
  // A family name with a depth is a network too.
  const arch = resolveArchitecture({ arch: 'resnet-imagenet', overrides: { depth: 34 } }, imagenet, 10);
  assert.equal(topologyOf(arch).id, 'resnet34');
});

test('records of the first format (resnet-6n+2) read as resnet-cifar; their stored sizes must agree with the depth', () => {
  const legacy = {
    family: 'resnet-6n+2',
    depth: 20,
    blocksPerStage: 3,
    widths: [16, 32, 64],
    strides: [1, 2, 2],
    shortcut: 'A',
    input: fashion,
    numClasses: 10,
    batchNormEpsilon: 1e-5,
  };
  const now = resolveArchitecture({ arch: 'resnet20' }, fashion, 10);
  assert.deepEqual(topologyOf(legacy), topologyOf(now));
  assert.throws(() => topologyOf({ ...legacy, blocksPerStage: 4 }), /blocksPerStage: expected 3 \(ResNet-20\)/);
});

test("resnet20's tensors are the shipped v3 checkpoint's, in its order and shapes", () => {
  const bytes = readFileSync(new URL('../../../models/runs/fm-r20-re-100ep/checkpoint.safetensors', import.meta.url));
  const stored = [...decodeSafetensors(bytes, 'v3').tensors].filter(([name]) => !name.startsWith('momentum/'));
  const specs = parameterSpecs(topologyOf(resolveArchitecture({ arch: 'resnet20' }, fashion, 10)));
  assert.deepEqual(
    stored.map(([name, t]) => `${name} [${t.shape.join(',')}]`),
    specs.map((p) => `${p.name} [${p.shape.join(',')}]`),
  );
});
