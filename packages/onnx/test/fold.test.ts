// The folding identity: the folded conv equals p * BN(conv(x)), and foldNetwork scales only each block's branch.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRng, DepthfoldInputError, type NamedTensor } from '@depthfold/core';
import { foldBatchNorm, foldNetwork, hwioToOihw, nhwcToNchw } from '../src/index.js';
import { CASES, randomCheckpoint, randomTensor, randomVariance } from '@depthfold/testing';
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
  assert.throws(() => foldBatchNorm(filter, zero, EPS), /bn\.variance\[2\]/);
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

test('foldNetwork scales each conv2 by p_l, never the stem, conv1 or the projection shortcut', () => {
  const checkpoint = randomCheckpoint(CASES[1]!);
  const { architecture, schedule } = checkpoint.info;
  const eps = architecture.batchNormEpsilon;
  const params = checkpoint.params;
  const net = foldNetwork(params, { ...architecture }, schedule.survivalProbs);
  const bn = (prefix: string) => {
    const d = (k: string) => params.get(`${prefix}.${k}`)!.data;
    return { gamma: d('gamma'), beta: d('beta'), mean: d('mean'), variance: d('variance') };
  };
  const same = (a: { weight: NamedTensor; bias: NamedTensor }, b: { weight: NamedTensor; bias: NamedTensor }) => {
    assert.deepEqual(a.weight.shape, b.weight.shape);
    assert.deepEqual(a.weight.data, b.weight.data);
    assert.deepEqual(a.bias.data, b.bias.data);
  };
  same(net.stem, foldBatchNorm(params.get('stem.conv')!, bn('stem.bn'), eps));
  assert.equal(net.blocks.length, 3);
  net.blocks.forEach((block, i) => {
    const p = schedule.survivalProbs[i]!;
    assert.equal(block.survivalProb, p);
    same(block.conv1, foldBatchNorm(params.get(`${block.spec.name}.conv1`)!, bn(`${block.spec.name}.bn1`), eps));
    same(block.conv2, foldBatchNorm(params.get(`${block.spec.name}.conv2`)!, bn(`${block.spec.name}.bn2`), eps, p));
    if (block.spec.shortcut === 'projection') {
      same(
        block.projection!,
        foldBatchNorm(params.get(`${block.spec.name}.proj`)!, bn(`${block.spec.name}.proj_bn`), eps),
      );
      assert.equal(block.projection!.pad, 0);
      assert.equal(block.projection!.stride, block.spec.stride);
    } else {
      assert.equal(block.projection, null);
    }
  });
  assert.deepEqual(net.head.weight.shape, [64, 10]);
  assert.deepEqual(net.head.weight.data, params.get('head.weight')!.data);
});

test('foldNetwork names a missing tensor and a wrong number of survival probabilities', () => {
  const checkpoint = randomCheckpoint(CASES[0]!);
  const { architecture, schedule } = checkpoint.info;
  const params = new Map(checkpoint.params);
  assert.throws(
    () => foldNetwork(params, { ...architecture }, schedule.survivalProbs.slice(1)),
    /survivalProbs: expected 3 probabilities/,
  );
  params.delete('stage2.block0.bn2.variance');
  assert.throws(
    () => foldNetwork(params, { ...architecture }, schedule.survivalProbs),
    /tensor stage2\.block0\.bn2\.variance/,
  );
});
