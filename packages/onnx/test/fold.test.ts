// The folding identity: the folded conv equals p * BN(conv(x)), and foldNetwork scales only each block's branch.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  createRng,
  DepthfoldInputError,
  type Layer,
  type NamedTensor,
  residualLayers,
  topologyOf,
} from '@depthfold/core';
import { foldBatchNorm, foldNetwork, hwioToOihw, nhwcToNchw } from '../src/index.js';
import { CASES, IMAGENET_CASES, randomCheckpoint, randomTensor, randomVariance } from '@depthfold/testing';
import { batchNormAxis, convNchwHwio, convNchwOihw, maxAbsDiff, type Activation } from './reference.js';

const EPS = 1e-5;

function bnParams(rng: ReturnType<typeof createRng>, channels: number): Map<string, NamedTensor> {
  return new Map([
    ['bn.gamma', randomTensor(rng, [channels], 0.3, 1)],
    ['bn.beta', randomTensor(rng, [channels], 0.3)],
    ['bn.mean', randomTensor(rng, [channels], 0.3)],
    ['bn.variance', randomVariance(rng, channels)],
  ]);
}

function asBn(params: Map<string, NamedTensor>) {
  const d = (k: string) => params.get(`bn.${k}`)!.data;
  return { gamma: d('gamma'), beta: d('beta'), mean: d('mean'), variance: d('variance') };
}

for (const { kernel, stride, scale } of [
  { kernel: 3, stride: 1, scale: 0.7 },
  { kernel: 3, stride: 2, scale: 0.5 },
  { kernel: 1, stride: 2, scale: 1 },
]) {
  test(`folded ${kernel}x${kernel} stride ${stride} conv == ${scale} * BN(conv(x)) to 1e-5`, () => {
    const rng = createRng(kernel * 10 + stride);
    const [cin, cout, pad] = [4, 6, (kernel - 1) / 2];
    const filter = randomTensor(rng, [kernel, kernel, cin, cout], Math.sqrt(2 / (kernel * kernel * cin)));
    const bn = bnParams(rng, cout);
    const input = randomTensor(rng, [2, cin, 9, 9]);
    const x: Activation = { shape: [...input.shape], data: Float64Array.from(input.data) };
    const expected = batchNormAxis(convNchwHwio(x, filter, stride, pad), bn, 'bn', EPS, 1, scale);
    const folded = foldBatchNorm(filter, asBn(bn), EPS, scale);
    assert.deepEqual(folded.weight.shape, [cout, cin, kernel, kernel]);
    assert.deepEqual(folded.bias.shape, [cout]);
    const actual = convNchwOihw(x, folded.weight, folded.bias, stride, pad);
    assert.deepEqual(actual.shape, expected.shape);
    const diff = maxAbsDiff(actual.data, expected.data);
    assert.ok(diff < 1e-5, `max abs diff ${diff}`);
  });
}

test('foldBatchNorm rejects BN tensors of the wrong length and non-positive variance + eps', () => {
  const rng = createRng(3);
  const filter = randomTensor(rng, [3, 3, 2, 4]);
  const bn = asBn(bnParams(rng, 3));
  assert.throws(
    () => foldBatchNorm(filter, bn, EPS),
    (e: unknown) => e instanceof DepthfoldInputError && /bn\.gamma/.test(e.message),
  );
  const zero = asBn(bnParams(rng, 4));
  zero.variance[2] = -1;
  assert.throws(() => foldBatchNorm(filter, zero, EPS, 1, 'stage1.block0.bn2'), /stage1\.block0\.bn2\.variance\[2\]/);
});

test('layout: HWIO -> OIHW and NHWC -> NCHW move each element where the definition says', () => {
  const filter = { shape: [3, 2, 4, 5], data: Float32Array.from({ length: 120 }, (_, i) => i) };
  const oihw = hwioToOihw(filter);
  assert.deepEqual(oihw.shape, [5, 4, 3, 2]);
  for (const [h, w, i, o] of [
    [0, 0, 0, 0],
    [2, 1, 3, 4],
    [1, 0, 2, 3],
  ] as const) {
    assert.equal(oihw.data[((o * 4 + i) * 3 + h) * 2 + w], filter.data[((h * 2 + w) * 4 + i) * 5 + o]);
  }
  const nhwc = { shape: [2, 3, 4, 5], data: Float32Array.from({ length: 120 }, (_, i) => i) };
  const nchw = nhwcToNchw(nhwc);
  assert.deepEqual(nchw.shape, [2, 5, 3, 4]);
  assert.equal(nchw.data[((1 * 5 + 4) * 3 + 2) * 4 + 3], nhwc.data[((1 * 3 + 2) * 4 + 3) * 5 + 4]);
});

const bnOf = (params: ReadonlyMap<string, NamedTensor>, prefix: string) => {
  const d = (k: string) => params.get(`${prefix}.${k}`)!.data;
  return { gamma: d('gamma'), beta: d('beta'), mean: d('mean'), variance: d('variance') };
};

const sameWeights = (a: { weight: NamedTensor; bias: NamedTensor }, b: { weight: NamedTensor; bias: NamedTensor }) => {
  assert.deepEqual(a.weight.shape, b.weight.shape);
  assert.deepEqual(a.weight.data, b.weight.data);
  assert.deepEqual(a.bias.data, b.bias.data);
};

for (const testCase of [CASES[1]!, IMAGENET_CASES[1]!]) {
  test(`foldNetwork scales the last conv of each branch by p_l, never another conv (${testCase.label})`, () => {
    const checkpoint = randomCheckpoint(testCase);
    const { schedule } = checkpoint.info;
    const topology = topologyOf(checkpoint.info.architecture);
    const eps = topology.batchNormEpsilon;
    const params = checkpoint.params;
    const net = foldNetwork(params, topology, schedule.survivalProbs);
    // Every conv of the network is folded with the BN after it; the scale is p_l only where the branch ends.
    const expected = new Map<string, number>();
    const visit = (layers: readonly Layer[], block?: number) =>
      layers.forEach((layer, i) => {
        if (layer.op === 'residual') {
          visit(layer.branch, layer.index);
          visit(layer.shortcut);
        } else if (layer.op === 'conv') {
          expected.set(
            layer.name,
            block !== undefined && i === layers.length - 2 ? schedule.survivalProbs[block - 1]! : 1,
          );
        }
      });
    visit(topology.layers);
    assert.deepEqual([...net.convs.keys()].sort(), [...expected.keys()].sort());
    assert.equal([...expected.values()].filter((p) => p !== 1).length, residualLayers(topology).length);
    for (const [name, scale] of expected) {
      const bnName =
        name === 'stem.conv' ? 'stem.bn' : name.replace(/conv(\d)$/, 'bn$1').replace(/\.proj$/, '.proj_bn');
      sameWeights(net.convs.get(name)!, foldBatchNorm(params.get(name)!, bnOf(params, bnName), eps, scale));
    }
    assert.deepEqual(net.dense.get('head')!.weight.data, params.get('head.weight')!.data);
  });
}

test('foldNetwork names a NaN or infinite weight by tensor and index', () => {
  const checkpoint = randomCheckpoint(CASES[0]!);
  const topology = topologyOf(checkpoint.info.architecture);
  const params = new Map(checkpoint.params);
  const conv = params.get('stage2.block0.conv1')!;
  const broken = new Float32Array(conv.data);
  broken[17] = Number.NaN;
  params.set('stage2.block0.conv1', { shape: conv.shape, data: broken });
  assert.throws(
    () => foldNetwork(params, topology, checkpoint.info.schedule.survivalProbs),
    /tensor stage2\.block0\.conv1\[17\]: expected a finite number, received NaN/,
  );
  const variance = params.get('stage3.block0.bn2.variance')!;
  params.set('stage2.block0.conv1', conv);
  params.set('stage3.block0.bn2.variance', {
    shape: variance.shape,
    data: variance.data.map((v, i) => (i === 5 ? Number.POSITIVE_INFINITY : v)),
  });
  assert.throws(
    () => foldNetwork(params, topology, checkpoint.info.schedule.survivalProbs),
    /tensor stage3\.block0\.bn2\.variance\[5\]: expected a finite number, received Infinity/,
  );
});

test('foldNetwork names a missing tensor and a wrong number of survival probabilities', () => {
  const checkpoint = randomCheckpoint(CASES[0]!);
  const { architecture, schedule } = checkpoint.info;
  const topology = topologyOf(architecture);
  const params = new Map(checkpoint.params);
  assert.throws(
    () => foldNetwork(params, topology, schedule.survivalProbs.slice(1)),
    /survivalProbs: expected 3 probabilities/,
  );
  params.delete('stage2.block0.bn2.variance');
  assert.throws(() => foldNetwork(params, topology, schedule.survivalProbs), /tensor stage2\.block0\.bn2\.variance/);
});
