// ReLU whose gradient is one native kernel on onednn (dy where x > 0); tfjs's own gradient, dy * step(x), takes
// two passes and two temporaries over every activation.
import * as tf from '@tensorflow/tfjs-core';
import { ONEDNN_BACKEND_NAME, OnednnKernel } from '@depthfold/backend-onednn';

/** `tf.relu(x)`, differentiable on every backend, with the fused gradient kernel on onednn. */
export function relu<T extends tf.Tensor>(x: T): T {
  if (tf.getBackend() !== ONEDNN_BACKEND_NAME) return tf.relu(x);
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xIn, save] = args as [tf.Tensor, tf.GradSaveFunc];
    save([xIn]);
    return {
      value: tf.relu(xIn),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.engine().runKernel(OnednnKernel.ReluGrad, { dy, x: saved[0]! }) as tf.Tensor,
    };
  });
  return op(x) as T;
}
