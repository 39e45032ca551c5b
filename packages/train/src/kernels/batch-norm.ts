// Batch normalisation in training mode with its gradient written out, because tfjs's generic FusedBatchNorm
// gradient broadcasts through Tile and spends more time there than the convolutions themselves on wasm.
//   xhat = (x - mean) / sqrt(var + eps),  y = gamma * xhat + beta   (mean, var over N, H, W; var biased)
//   dbeta = sum(dy),  dgamma = sum(dy * xhat),  dx = gamma / sqrt(var + eps) * (dy - (dbeta + xhat * dgamma) / m)
import * as tf from '@tensorflow/tfjs-core';

/** The normalised output and the batch statistics it used (kept: the caller disposes them). */
export interface BatchNormTrainResult {
  y: tf.Tensor4D;
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
}

/** Batch norm over axes N, H, W of an NHWC tensor, with batch statistics; differentiable in x, gamma and beta. */
export function batchNormTrain(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number): BatchNormTrainResult {
  const [n, h, w] = x.shape;
  const m = n * h * w;
  let mean!: tf.Tensor1D;
  let variance!: tf.Tensor1D;
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xIn, gammaIn, betaIn, save] = args as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
    const moments = tf.moments(xIn, [0, 1, 2]);
    mean = tf.keep(moments.mean as tf.Tensor1D);
    variance = tf.keep(moments.variance as tf.Tensor1D);
    const invStd = tf.rsqrt(tf.add(variance, epsilon));
    const xhat = tf.mul(tf.sub(xIn, mean), invStd);
    save([xhat, invStd, gammaIn]);
    return {
      value: tf.add(tf.mul(xhat, gammaIn), betaIn),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xh, inv, g] = saved as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D];
        const dbeta = tf.sum(dy, [0, 1, 2]);
        const dgamma = tf.sum(tf.mul(dy, xh), [0, 1, 2]);
        const centred = tf.sub(dy, tf.div(tf.add(tf.mul(xh, dgamma), dbeta), m));
        return [tf.mul(centred, tf.mul(g, inv)), dgamma, dbeta];
      },
    };
  });
  const y = op(x, gamma, beta) as tf.Tensor4D;
  return { y, mean, variance };
}
