// Batch normalisation in training mode with its gradient written out, for two reasons: tfjs's generic
// FusedBatchNorm gradient broadcasts through Tile and costs more than the convolutions on wasm; and with
// data-parallel replicas the statistics must be those of the whole mini-batch (synchronised batch norm), so that
// results do not depend on the number of replicas beyond float rounding.
//   xhat = (x - mean) / sqrt(var + eps),  y = gamma * xhat + beta   (mean, var over N, H, W of the whole batch)
//   dbeta = sum(dy),  dgamma = sum(dy * xhat),  dx = gamma / sqrt(var + eps) * (dy - (dbeta + xhat * dgamma) / m)
import * as tf from '@tensorflow/tfjs-core';
import { soloCollective, type Collective } from '../parallel/collective.js';
import { trainingKernels } from './training-kernels.js';

/** The normalised output and the batch statistics it used (kept: the caller disposes them). */
export interface BatchNormTrainResult {
  y: tf.Tensor4D;
  /** Mean and biased variance over the whole mini-batch (all replicas). */
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
  /** How many values (N*H*W over all replicas) the statistics were taken over. */
  count: number;
}

/**
 * Combines per-replica (count, mean, M2) into the whole batch's mean and biased variance (Chan et al.'s pairwise
 * update, in rank order, in float64), which is exact and does not lose precision like E[x^2] - E[x]^2.
 */
function combineMoments(
  parts: Float32Array[],
  channels: number,
): { mean: Float32Array; variance: Float32Array; count: number } {
  let count = 0;
  const sum = new Float64Array(channels);
  for (const p of parts) {
    count += p[0]!;
    for (let c = 0; c < channels; c++) sum[c]! += p[0]! * p[1 + c]!;
  }
  const mean = sum.map((s) => s / count);
  const m2 = new Float64Array(channels);
  for (const p of parts) {
    for (let c = 0; c < channels; c++) m2[c]! += p[1 + channels + c]! + p[0]! * (p[1 + c]! - mean[c]!) ** 2;
  }
  return { mean: Float32Array.from(mean), variance: Float32Array.from(m2, (v) => v / count), count };
}

/**
 * Batch norm over axes N, H, W of an NHWC tensor with the statistics of the whole mini-batch across the replicas
 * of `collective`; differentiable in x, gamma and beta. The gamma and beta gradients are this replica's share
 * (the optimizer's gradient reduction sums them); the x gradient uses the reduced sums.
 */
export function batchNormTrain(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon: number,
  collective: Collective = soloCollective,
): BatchNormTrainResult {
  const [n, h, w, channels] = x.shape;
  // A backend's own kernel serves one replica; across replicas the statistics are gathered here.
  const own = trainingKernels().batchNormTrain;
  if (collective.size === 1 && own) return { ...own(x, gamma, beta, epsilon), count: n * h * w };
  const localCount = n * h * w;
  let mean!: tf.Tensor1D;
  let variance!: tf.Tensor1D;
  let count = localCount;
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xIn, gammaIn, betaIn, save] = args as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
    const local = tf.moments(xIn, [0, 1, 2]);
    if (collective.size === 1) {
      mean = tf.keep(local.mean as tf.Tensor1D);
      variance = tf.keep(local.variance as tf.Tensor1D);
    } else {
      const mine = new Float32Array(1 + 2 * channels);
      mine[0] = localCount;
      mine.set(local.mean.dataSync() as Float32Array, 1);
      const m2 = local.variance.dataSync();
      for (let c = 0; c < channels; c++) mine[1 + channels + c] = m2[c]! * localCount;
      const all = combineMoments(collective.allGather(mine), channels);
      mean = tf.keep(tf.tensor1d(all.mean));
      variance = tf.keep(tf.tensor1d(all.variance));
      count = all.count;
    }
    const invStd = tf.rsqrt(tf.add(variance, epsilon));
    const xhat = tf.mul(tf.sub(xIn, mean), invStd);
    save([xhat, invStd, gammaIn]);
    return {
      value: tf.add(tf.mul(xhat, gammaIn), betaIn),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xh, inv, g] = saved as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D];
        const dbeta = tf.sum(dy, [0, 1, 2]) as tf.Tensor1D;
        const dgamma = tf.sum(tf.mul(dy, xh), [0, 1, 2]) as tf.Tensor1D;
        let dbetaAll = dbeta;
        let dgammaAll = dgamma;
        if (collective.size > 1) {
          const mine = new Float32Array(2 * channels);
          mine.set(dbeta.dataSync() as Float32Array, 0);
          mine.set(dgamma.dataSync() as Float32Array, channels);
          const sums = collective.allReduceSum(mine);
          dbetaAll = tf.tensor1d(sums.subarray(0, channels));
          dgammaAll = tf.tensor1d(sums.subarray(channels));
        }
        const centred = tf.sub(dy, tf.div(tf.add(tf.mul(xh, dgammaAll), dbetaAll), count));
        return [tf.mul(centred, tf.mul(g, inv)), dgamma, dbeta];
      },
    };
  });
  const y = op(x, gamma, beta) as tf.Tensor4D;
  return { y, mean, variance, count };
}
