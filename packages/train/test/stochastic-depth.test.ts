// Stochastic depth itself: a dropped block runs no conv, gates follow p_l, the optimizer keys state by name,
// and test mode scales each branch by p_l.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import {
  createRng,
  type InputShape,
  residualLayers,
  resolveArchitecture,
  survivalProbs,
  type Topology,
  topologyOf,
} from '@depthfold/core';
import { nativeCallCounts, resetNativeCallCounts } from '@depthfold/backend-onednn';
import {
  createNetwork,
  decayedParameters,
  drawGates,
  forward,
  selectBackend,
  Sgd,
  trainStep,
  activeParameters,
} from '../src/index.js';
import { skipUnlessOnednn } from './backends.js';

const topologyFor = (arch: string, input: InputShape, classes: number): Topology =>
  topologyOf(resolveArchitecture({ arch }, input, classes));
const spec = topologyFor('resnet20', { height: 12, width: 12, channels: 1 }, 10);
const L = residualLayers(spec).length;

before(async () => {
  await selectBackend('wasm');
});

async function convKernelsRun(gates: boolean[]): Promise<number> {
  const net = createNetwork(spec, createRng(3));
  const x = tf.randomNormal([2, 12, 12, 1]) as tf.Tensor4D;
  const y = tf.tensor1d([1, 2], 'int32');
  const opt = new Sgd();
  const profile = await tf.profile(() => {
    const r = trainStep(net, opt, x, y, gates, decayedParameters(spec), {
      learningRate: 0.01,
      momentum: 0.9,
      weightDecay: 1e-4,
    });
    tf.dispose([r.loss, r.correct, r.gradMagnitudes.values]);
  });
  tf.dispose([x, y]);
  opt.dispose();
  for (const v of net.vars.values()) v.dispose();
  return profile.kernels.filter((k) => k.name === 'Conv2D').length;
}

test('a dropped block runs no conv, forward or backward', async () => {
  const all = await convKernelsRun(Array(L).fill(true));
  const none = await convKernelsRun(Array(L).fill(false));
  const some = Array.from({ length: L }, (_, i) => i % 3 === 0);
  const partial = await convKernelsRun(some);
  // Per conv that runs: 1 forward + (on wasm) 2 backward convs (input and filter gradients), except that the stem
  // needs no input gradient. So all convs scale with the number of blocks that ran, and none run for dropped ones.
  const perBlock = (all - none) / L;
  assert.ok(perBlock >= 2, `each block runs its two convs (found ${perBlock} conv kernels per block)`);
  assert.equal(partial, none + perBlock * some.filter(Boolean).length);
  assert.ok(none <= 3, `only the stem conv runs when every block is dropped (found ${none})`);
});

/** Native conv calls [forward, input gradient, filter gradient] of one training step of `topology` on onednn. */
function nativeConvCalls(topology: Topology, gates: boolean[]): number[] {
  const net = createNetwork(topology, createRng(3));
  const { height, width, channels } = topology.input;
  const x = tf.randomNormal([2, height, width, channels]) as tf.Tensor4D;
  const y = tf.tensor1d([1, 2], 'int32');
  const opt = new Sgd();
  resetNativeCallCounts();
  const r = trainStep(net, opt, x, y, gates, decayedParameters(topology), {
    learningRate: 0.01,
    momentum: 0.9,
    weightDecay: 1e-4,
  });
  const counts = nativeCallCounts();
  tf.dispose([r.loss, r.correct, r.gradMagnitudes.values, x, y, ...net.vars.values()]);
  opt.dispose();
  return ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'].map((k) => counts.get(k) ?? 0);
}

test('on onednn, a dropped block runs no native convolution, forward or backward (the calls counted)', {
  skip: skipUnlessOnednn,
}, async () => {
  await tf.setBackend('onednn');
  try {
    const some = Array.from({ length: L }, (_, i) => i % 3 === 0);
    const ran = some.filter(Boolean).length;
    // The stem: one forward and one filter gradient (the images need no gradient); each block that runs: two of each.
    assert.deepEqual(nativeConvCalls(spec, Array(L).fill(false)), [1, 0, 1]);
    assert.deepEqual(nativeConvCalls(spec, some), [1 + 2 * ran, 2 * ran, 1 + 2 * ran]);
    assert.deepEqual(nativeConvCalls(spec, Array(L).fill(true)), [1 + 2 * L, 2 * L, 1 + 2 * L]);
  } finally {
    await tf.setBackend('wasm');
  }
});

for (const arch of ['resnet18', 'resnet50']) {
  test(`on onednn, ${arch}: a dropped bottleneck or basic block runs only its projection shortcut's conv`, {
    skip: skipUnlessOnednn,
  }, async () => {
    await tf.setBackend('onednn');
    try {
      const topology = topologyFor(arch, { height: 32, width: 32, channels: 1 }, 5);
      const blocks = residualLayers(topology);
      const convs = (layers: readonly { op: string }[]) => layers.filter((l) => l.op === 'conv').length;
      const branch = blocks.map((b) => convs(b.branch));
      const shortcuts = blocks.reduce((n, b) => n + convs(b.shortcut), 0);
      // A projection enters stages 2-4, and stage 1 of the bottleneck nets too (64 -> 256 channels).
      assert.equal(shortcuts, arch === 'resnet18' ? 3 : 4);
      const gates = blocks.map((_, i) => i % 2 === 1);
      const ran = branch.reduce((n, c, i) => n + (gates[i] ? c : 0), 0);
      // The stem conv (no input gradient), the branches that ran, and every shortcut conv, dropped block or not.
      assert.deepEqual(nativeConvCalls(topology, gates), [1 + ran + shortcuts, ran + shortcuts, 1 + ran + shortcuts]);
      assert.deepEqual(
        nativeConvCalls(
          topology,
          gates.map(() => false),
        ),
        [1 + shortcuts, shortcuts, 1 + shortcuts],
      );
    } finally {
      await tf.setBackend('wasm');
    }
  });
}

test('dropped blocks are neither differentiated nor updated; their momentum is kept', async () => {
  const net = createNetwork(spec, createRng(5));
  const opt = new Sgd();
  const x = tf.randomNormal([4, 12, 12, 1]) as tf.Tensor4D;
  const y = tf.tensor1d([0, 1, 2, 3], 'int32');
  const hp = { learningRate: 0.1, momentum: 0.9, weightDecay: 1e-4 };
  const decayed = decayedParameters(spec);
  const all = Array(L).fill(true);
  let r = trainStep(net, opt, x, y, all, decayed, hp);
  tf.dispose([r.loss, r.correct, r.gradMagnitudes.values]);
  const momentumBefore = await opt.state();
  const name = 'stage1.block1.conv1';
  const before = await net.vars.get(name)!.data();
  const gates = all.map((_, i) => i !== 1);
  assert.ok(!activeParameters(spec, gates).includes(name));
  assert.ok(activeParameters(spec, gates).includes('stage1.block0.conv1'));
  r = trainStep(net, opt, x, y, gates, decayed, hp);
  tf.dispose([r.loss, r.correct, r.gradMagnitudes.values]);
  assert.deepEqual(await net.vars.get(name)!.data(), before);
  const momentumAfter = await opt.state();
  assert.deepEqual(momentumAfter.get(name)!.data, momentumBefore.get(name)!.data);
  assert.notDeepEqual(momentumAfter.get('stage1.block0.conv1')!.data, momentumBefore.get('stage1.block0.conv1')!.data);
  tf.dispose([x, y]);
  opt.dispose();
});

test('the optimizer step is Nesterov SGD with weight decay, keyed by name', async () => {
  const w = tf.variable(tf.tensor1d([1, -2]));
  const vars = new Map([['w', w]]);
  const opt = new Sgd();
  const g = tf.tensor1d([0.5, 0.25]);
  const hp = { learningRate: 0.1, momentum: 0.9, weightDecay: 0.01 };
  opt.step(vars, new Map([['w', g]]), new Set(['w']), hp);
  opt.step(vars, new Map([['w', g]]), new Set(['w']), hp);
  // By hand: g' = g + wd*w; v = mu*v + g'; w -= lr*(g' + mu*v).
  let wv = [1, -2];
  let v = [0, 0];
  for (let s = 0; s < 2; s++) {
    const gp = [0.5 + 0.01 * wv[0]!, 0.25 + 0.01 * wv[1]!];
    v = v.map((vi, i) => 0.9 * vi + gp[i]!);
    wv = wv.map((wi, i) => wi - 0.1 * (gp[i]! + 0.9 * v[i]!));
  }
  const got = await w.data();
  for (let i = 0; i < 2; i++) assert.ok(Math.abs(got[i]! - wv[i]!) < 1e-6);
  opt.dispose();
  tf.dispose([w, g]);
});

test('gates follow the Bernoulli rates of the schedule over many mini-batches', () => {
  const probs = survivalProbs('linear', 27, 0.5);
  const rng = createRng(42);
  const counts = new Array(27).fill(0);
  const batches = 20000;
  for (let i = 0; i < batches; i++) drawGates(probs, rng).forEach((g, l) => (counts[l] += g ? 1 : 0));
  for (let l = 0; l < 27; l++) {
    const p = probs[l]!;
    const sd = Math.sqrt((p * (1 - p)) / batches);
    assert.ok(
      Math.abs(counts[l] / batches - p) < 5 * sd + 1e-9,
      `block ${l + 1}: rate ${counts[l] / batches} vs p_l ${p}`,
    );
  }
  assert.ok(drawGates(survivalProbs('none', 5, 0.5), rng).every(Boolean));
});

test('test mode scales each branch by p_l: with p_l = 1 it equals the all-gates-open training graph on BN statistics', async () => {
  // With running statistics equal to the batch statistics, eval with p = 1 must equal training with all gates open.
  const small = topologyFor('resnet8', { height: 8, width: 8, channels: 1 }, 3);
  const net = createNetwork(small, createRng(9));
  const x = tf.randomNormal([3, 8, 8, 1]) as tf.Tensor4D;
  const trainOut = tf.tidy(() => {
    const r = forward(net, x, { training: true, gates: [true, true, true] });
    for (const [prefix, s] of r.batchStats) {
      net.vars.get(`${prefix}.mean`)!.assign(s.mean);
      net.vars.get(`${prefix}.variance`)!.assign(s.variance);
    }
    return r.logits;
  });
  const evalOut = tf.tidy(() => forward(net, x, { training: false, survivalProbs: [1, 1, 1] }).logits);
  const diff = (await tf.max(tf.abs(tf.sub(trainOut, evalOut))).data())[0]!;
  assert.ok(diff < 1e-4, `max diff ${diff}`);
  // And p < 1 changes the output (the branches are scaled).
  const scaled = tf.tidy(() => forward(net, x, { training: false, survivalProbs: [0.5, 0.5, 0.5] }).logits);
  assert.ok((await tf.max(tf.abs(tf.sub(scaled, evalOut))).data())[0]! > 1e-3);
  tf.dispose([x, trainOut, evalOut, scaled]);
});

test('test mode keeps no activation past its layer: a deep net evaluates in the memory of a few (ResNet-1202 ran out of 24 GB before)', () => {
  const deep = topologyFor('resnet110', { height: 8, width: 8, channels: 1 }, 3);
  const net = createNetwork(deep, createRng(4));
  const x = tf.randomNormal([2, 8, 8, 1]) as tf.Tensor4D;
  const probs = Array(residualLayers(deep).length).fill(0.9);
  const before = tf.memory().numTensors;
  let during = 0;
  tf.tidy(() => {
    forward(net, x, { training: false, survivalProbs: probs });
    during = tf.memory().numTensors - before;
  });
  // The logits and their few reshapes; a pass that kept its activations would hold thousands (110 layers).
  assert.ok(during < 10, `${during} tensors alive after the forward pass`);
  tf.dispose([x, ...net.vars.values()]);
});
