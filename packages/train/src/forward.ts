// The forward pass of ResNet-(6n+2) with stochastic depth (Huang et al. 2016, Eq. 2 and 3):
//   training: H_l = ReLU(b_l * f_l(H_{l-1}) + id(H_{l-1})), b_l ~ Bernoulli(p_l); a dropped block (b_l = 0)
//             computes only its shortcut, which is where the saving comes from;
//   test:     H_l = ReLU(p_l * f_l(H_{l-1}) + id(H_{l-1})), batch norm with running statistics.
// f_l = conv-BN-ReLU-conv-BN. Activations are NHWC.
import * as tf from '@tensorflow/tfjs-core';
import { convPadding, residualBlocks, type BlockSpec } from '@depthfold/core';
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

function conv(net: Network, name: string, x: tf.Tensor4D, stride: number, inputGradient = true): tf.Tensor4D {
  const filter = net.vars.get(name) as tf.Tensor4D;
  return conv2d(x, filter, stride as 1 | 2, convPadding(filter.shape[0]), inputGradient);
}

function batchNorm(
  net: Network,
  prefix: string,
  x: tf.Tensor4D,
  mode: ForwardMode,
  stats: ForwardResult['batchStats'],
): tf.Tensor4D {
  const v = (key: string) => net.vars.get(`${prefix}.${key}`) as tf.Tensor1D;
  const eps = net.spec.batchNormEpsilon;
  if (!mode.training) return tf.batchNorm(x, v('mean'), v('variance'), v('beta'), v('gamma'), eps);
  const { y, mean, variance, count } = batchNormTrain(x, v('gamma'), v('beta'), eps, mode.collective);
  stats.set(prefix, { mean, variance, count });
  return y;
}

/** Option A: subsample by the stride (a 1x1 average pool) and append zero channels. */
function shortcutA(x: tf.Tensor4D, block: BlockSpec): tf.Tensor4D {
  const pooled = block.stride === 1 ? x : tf.avgPool(x, 1, block.stride, 'valid');
  const extra = block.outChannels - block.inChannels;
  return extra > 0
    ? tf.pad(pooled, [
        [0, 0],
        [0, 0],
        [0, 0],
        [0, extra],
      ])
    : pooled;
}

function shortcut(
  net: Network,
  x: tf.Tensor4D,
  block: BlockSpec,
  mode: ForwardMode,
  stats: ForwardResult['batchStats'],
): tf.Tensor4D {
  switch (block.shortcut) {
    case 'identity':
      return x;
    case 'A':
      return shortcutA(x, block);
    case 'projection':
      return batchNorm(net, `${block.name}.proj_bn`, conv(net, `${block.name}.proj`, x, block.stride), mode, stats);
  }
}

/** f_l: conv-BN-ReLU-conv-BN. */
function branch(
  net: Network,
  x: tf.Tensor4D,
  block: BlockSpec,
  mode: ForwardMode,
  stats: ForwardResult['batchStats'],
): tf.Tensor4D {
  const h = relu(batchNorm(net, `${block.name}.bn1`, conv(net, `${block.name}.conv1`, x, block.stride), mode, stats));
  return batchNorm(net, `${block.name}.bn2`, conv(net, `${block.name}.conv2`, h, 1), mode, stats);
}

function block(
  net: Network,
  x: tf.Tensor4D,
  b: BlockSpec,
  mode: ForwardMode,
  stats: ForwardResult['batchStats'],
): tf.Tensor4D {
  const id = shortcut(net, x, b, mode, stats);
  if (mode.training) {
    // The input is a ReLU output (>= 0) and option A keeps it so: ReLU(id) = id except after a projection.
    if (!mode.gates[b.index - 1]) return b.shortcut === 'projection' ? relu(id) : id;
    return relu(tf.add(branch(net, x, b, mode, stats), id)) as tf.Tensor4D;
  }
  const p = mode.survivalProbs[b.index - 1]!;
  const f = branch(net, x, b, mode, stats);
  return relu(tf.add(p === 1 ? f : tf.mul(f, p), id)) as tf.Tensor4D;
}

/** Runs the network on an NHWC batch. Call inside `tf.tidy`; batch statistics are kept for the caller. */
export function forward(net: Network, images: tf.Tensor4D, mode: ForwardMode): ForwardResult {
  const stats: ForwardResult['batchStats'] = new Map();
  const blocks = residualBlocks(net.spec);
  const expected = mode.training ? mode.gates.length : mode.survivalProbs.length;
  if (expected !== blocks.length)
    throw new Error(`forward: expected ${blocks.length} gates or survival probabilities, received ${expected}`);
  let h = relu(batchNorm(net, 'stem.bn', conv(net, 'stem.conv', images, 1, false), mode, stats));
  for (const b of blocks) h = block(net, h, b, mode, stats);
  const features = tf.mean(h, [1, 2]) as tf.Tensor2D;
  const logits = tf.add(
    tf.matMul(features, net.vars.get('head.weight') as tf.Tensor2D),
    net.vars.get('head.bias')!,
  ) as tf.Tensor2D;
  return { logits, batchStats: stats };
}
