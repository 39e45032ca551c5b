// The training ops that run as native kernels on this backend, as @depthfold/train's TrainingKernels registry takes
// them: ReLU's gradient in one pass (dy where x > 0; tfjs's own is dy * step(x), two passes and two temporaries), batch
// norm in one kernel each way (its backward reads x and the statistics again instead of a saved xhat), and the SGD
// step in one kernel. train registers this set for the `onednn` backend; nothing here is called on another backend.
import * as tf from '@tensorflow/tfjs-core';
import { OnednnKernel } from './kernels/norm.js';

/** The hyper-parameters of one SGD step (Nesterov momentum, L2 weight decay). */
export interface OnednnSgdHyperparameters {
  learningRate: number;
  momentum: number;
  weightDecay: number;
}

/** dy where x > 0: ReLU's gradient as one native kernel. */
function reluGradient(dy: tf.Tensor, x: tf.Tensor): tf.Tensor {
  return tf.engine().runKernel(OnednnKernel.ReluGrad, { dy, x }) as tf.Tensor;
}

/** Batch norm in training over N, H, W of an NHWC batch, differentiable in x, gamma and beta; mean and variance kept. */
function batchNormTrain(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon: number,
): { y: tf.Tensor4D; mean: tf.Tensor1D; variance: tf.Tensor1D } {
  let mean!: tf.Tensor1D;
  let variance!: tf.Tensor1D;
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xIn, gammaIn, betaIn, save] = args as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
    const [y, m, v] = tf
      .engine()
      .runKernel(OnednnKernel.BatchNormTrain, { x: xIn, gamma: gammaIn, beta: betaIn }, { epsilon }) as tf.Tensor[];
    mean = tf.keep(m as tf.Tensor1D);
    variance = tf.keep(v as tf.Tensor1D);
    save([xIn, mean, variance, gammaIn]);
    return {
      value: y!,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ms, vs, gs] = saved as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
        const inputs = { x: xs, dy, mean: ms, variance: vs, gamma: gs };
        return tf.engine().runKernel(OnednnKernel.BatchNormTrainGrad, inputs, { epsilon }) as tf.Tensor[];
      },
    };
  });
  const y = op(x, gamma, beta) as tf.Tensor4D;
  return { y, mean, variance };
}

/** One SGD step as one kernel: assigns w, returns the new momentum buffer. */
function sgdStep(
  w: tf.Variable,
  grad: tf.Tensor,
  decay: boolean,
  previous: tf.Tensor | undefined,
  hp: OnednnSgdHyperparameters,
): tf.Tensor {
  const inputs: tf.NamedTensorMap = previous ? { w, g: grad, v: previous } : { w, g: grad };
  const attrs = { learningRate: hp.learningRate, momentum: hp.momentum, weightDecay: decay ? hp.weightDecay : 0 };
  const [wNext, v] = tf.engine().runKernel(OnednnKernel.SgdNesterov, inputs, attrs) as [tf.Tensor, tf.Tensor];
  w.assign(wNext);
  wNext.dispose();
  return v;
}

/** This backend's training ops, for @depthfold/train's `registerTrainingKernels('onednn', ...)`. */
export const onednnTrainingKernels = Object.freeze({ reluGradient, batchNormTrain, sgdStep });
