// The forward pass with stochastic depth (Huang et al. 2016, Eq. 2 and 3), read off the network's topology:
//   training: H_l = ReLU(b_l * f_l(H_{l-1}) + shortcut(H_{l-1})), b_l ~ Bernoulli(p_l); a dropped block (b_l = 0)
//             computes only its shortcut, which is where the saving comes from;
//   test:     H_l = ReLU(p_l * f_l(H_{l-1}) + shortcut(H_{l-1})), batch norm with running statistics.
// Activations are NHWC. The walk knows layers, not families.
import * as tf from '@tensorflow/tfjs-core';
import { type Layer, residualLayers, type ResidualLayer } from '@depthfold/core';
import { batchNormTrain } from './kernels/batch-norm.js';
import { conv2d } from './kernels/conv2d.js';
import { relu } from './kernels/relu.js';
import type { Collective } from './parallel/collective.js';
import type { Network } from './network.js';

/** How to run the network. */
export type ForwardMode =
  /**
   * Batch statistics (of the whole mini-batch across the replicas of `collective`, if given), and `gates[l-1]`
   * says whether block l runs.
   */
  | { training: true; gates: readonly boolean[]; collective?: Collective }
  /** Running statistics, each branch scaled by its survival probability p_l. */
  | { training: false; survivalProbs: readonly number[] };

/** Batch mean and (biased) variance of one batch norm, and how many values each was taken over. */
export interface BatchStats {
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
  count: number;
}

/** The logits, and in training the batch statistics of every batch norm that ran (to update running stats). */
export interface ForwardResult {
  logits: tf.Tensor2D;
  batchStats: Map<string, BatchStats>;
}

/** What one pass carries from layer to layer. */
interface Pass {
  net: Network;
  mode: ForwardMode;
  stats: ForwardResult['batchStats'];
  /** The name of the network's first conv, whose input (the images) needs no gradient. */
  firstConv: string;
}

function batchNorm(pass: Pass, name: string, x: tf.Tensor4D): tf.Tensor4D {
  const v = (key: string) => pass.net.vars.get(`${name}.${key}`) as tf.Tensor1D;
  const eps = pass.net.topology.batchNormEpsilon;
  if (!pass.mode.training) return tf.batchNorm(x, v('mean'), v('variance'), v('beta'), v('gamma'), eps);
  const { y, mean, variance, count } = batchNormTrain(x, v('gamma'), v('beta'), eps, pass.mode.collective);
  pass.stats.set(name, { mean, variance, count });
  return y;
}

/** A residual block: its shortcut, and its branch unless the block is dropped. */
function residual(pass: Pass, x: tf.Tensor4D, block: ResidualLayer): tf.Tensor4D {
  const shortcut = layers(pass, x, block.shortcut);
  const { mode } = pass;
  if (mode.training) {
    if (!mode.gates[block.index - 1]) {
      // The block's input is a ReLU output (>= 0), and subsampling or zero channels keep it so: ReLU(id) = id. A
      // shortcut with a conv (a projection) needs its ReLU.
      const passThrough = block.shortcut.every((l) => l.op === 'subsample' || l.op === 'pad-channels');
      return passThrough ? shortcut : relu(shortcut);
    }
    return relu(tf.add(layers(pass, x, block.branch), shortcut)) as tf.Tensor4D;
  }
  const p = mode.survivalProbs[block.index - 1]!;
  const f = layers(pass, x, block.branch);
  return relu(tf.add(p === 1 ? f : tf.mul(f, p), shortcut)) as tf.Tensor4D;
}

function layer(pass: Pass, x: tf.Tensor4D, l: Layer): tf.Tensor4D {
  switch (l.op) {
    case 'conv': {
      const filter = pass.net.vars.get(l.name) as tf.Tensor4D;
      return conv2d(x, filter, l.stride, l.pad, l.name !== pass.firstConv);
    }
    case 'batch-norm':
      return batchNorm(pass, l.name, x);
    case 'relu':
      return relu(x);
    case 'max-pool':
      return tf.maxPool(x, l.kernel, l.stride, l.pad);
    case 'subsample':
      return tf.avgPool(x, 1, l.stride, 'valid');
    case 'pad-channels':
      return tf.pad(x, [
        [0, 0],
        [0, 0],
        [0, 0],
        [0, l.output.channels - l.input.channels],
      ]);
    case 'global-average-pool':
      return tf.mean(x, [1, 2], true) as tf.Tensor4D;
    case 'dense': {
      const features = tf.reshape(x, [x.shape[0], -1]) as tf.Tensor2D;
      const logits = tf.add(
        tf.matMul(features, pass.net.vars.get(`${l.name}.weight`) as tf.Tensor2D),
        pass.net.vars.get(`${l.name}.bias`)!,
      );
      return tf.reshape(logits, [x.shape[0], 1, 1, l.output.channels]);
    }
    case 'residual':
      return residual(pass, x, l);
  }
}

function layers(pass: Pass, x: tf.Tensor4D, list: readonly Layer[]): tf.Tensor4D {
  if (pass.mode.training) return list.reduce((h, l) => layer(pass, h, l), x);
  // At test time nothing is kept for a backward pass: each layer's intermediates go with its own scope, and its input
  // once its output exists, so a net of 1202 layers evaluates 500 images in the memory of a few activations (a
  // caller's tidy would otherwise hold every activation of the pass until it ends: 20 GB for ResNet-1202).
  let h = x;
  for (const l of list) {
    const next = tf.tidy(() => layer(pass, h, l));
    if (h !== x) h.dispose();
    h = next;
  }
  return h;
}

/** Runs the network on an NHWC batch. Call inside `tf.tidy`; batch statistics are kept for the caller. */
export function forward(net: Network, images: tf.Tensor4D, mode: ForwardMode): ForwardResult {
  const blocks = residualLayers(net.topology).length;
  const expected = mode.training ? mode.gates.length : mode.survivalProbs.length;
  if (expected !== blocks)
    throw new Error(`forward: expected ${blocks} gates or survival probabilities, received ${expected}`);
  const firstConv = net.topology.layers.find((l) => l.op === 'conv')?.name ?? '';
  const pass: Pass = { net, mode, stats: new Map(), firstConv };
  const out = layers(pass, images, net.topology.layers);
  return { logits: tf.reshape(out, [out.shape[0], -1]) as tf.Tensor2D, batchStats: pass.stats };
}
