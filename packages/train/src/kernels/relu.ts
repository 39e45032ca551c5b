// ReLU, whose gradient a backend may run as its own kernel (TrainingKernels.reluGradient); tfjs's own gradient,
// dy * step(x), takes two passes and two temporaries over every activation.
import * as tf from '@tensorflow/tfjs-core';
import { trainingKernels } from './training-kernels.js';

/** `tf.relu(x)`, differentiable on every backend, with the backend's own gradient kernel where it has one. */
export function relu<T extends tf.Tensor>(x: T): T {
  const gradient = trainingKernels().reluGradient;
  if (!gradient) return tf.relu(x);
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xIn, save] = args as [tf.Tensor, tf.GradSaveFunc];
    save([xIn]);
    return { value: tf.relu(xIn), gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => gradient(dy, saved[0]!) };
  });
  return op(x) as T;
}
