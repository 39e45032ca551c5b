// A 2-D convolution (NHWC activations, HWIO filters, no bias) whose gradients are the active backend's training
// kernels where it registered some (TrainingKernels.conv2dGradients: wasm's forward-conv gradients), else the
// backend's own Conv2DBackpropInput and Conv2DBackpropFilter.
import * as tf from '@tensorflow/tfjs-core';
import { axis } from './conv-geometry.js';
import { trainingKernels } from './training-kernels.js';

/**
 * The backend's own backprop kernels, for cpu, onednn and tensorflow (tfjs-node), which have fast native ones
 * (cpu's are the reference). They are called directly rather than through tf.grad of tf.conv2d because tfjs-core
 * alone registers no gradients in Node.
 */
function stockGrads(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  dy: tf.Tensor4D,
  stride: number,
  pad: number,
  inputGradient: boolean,
): tf.Tensor[] {
  const dx = inputGradient ? tf.conv2dTranspose(dy, filter, x.shape, stride, pad) : tf.zerosLike(x);
  const attrs = { strides: stride, pad, dataFormat: 'NHWC', filterShape: filter.shape };
  return [dx, tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, attrs) as tf.Tensor];
}

/**
 * A convolution without bias, `tf.conv2d(x, filter, stride, pad)`, differentiable on every backend and fast to
 * differentiate on wasm.
 *
 * The backend is read when the op is called: where it registered training kernels with conv gradients (wasm: forward
 * convs, see wasm-kernels.ts) they run; elsewhere (onednn included) the backend's Conv2DBackpropInput and
 * Conv2DBackpropFilter kernels do.
 *
 * @param x - Activations, NHWC.
 * @param filter - Weights, HWIO: [kh, kw, inChannels, outChannels].
 * @param stride - The stride along both spatial axes.
 * @param pad - Zeros added on every side of both spatial axes, within [0, k-1]: 1 for 3x3, 0 for 1x1.
 * @param inputGradient - false when x needs no gradient (the network's input); its gradient is then zero.
 * @returns [N, Ho, Wo, outChannels] with Ho = floor((H + 2*pad - kh) / stride) + 1, and likewise Wo.
 */
export function conv2d(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  stride: number,
  pad: number,
  inputGradient = true,
): tf.Tensor4D {
  // Checks the geometry up front, so that a bad pad fails here and not in the backward pass.
  axis(x.shape[1], filter.shape[0], stride, pad);
  axis(x.shape[2], filter.shape[1], stride, pad);
  const own = trainingKernels().conv2dGradients;
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xIn, filterIn, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.GradSaveFunc];
    save([xIn, filterIn]);
    return {
      value: tf.conv2d(xIn, filterIn, stride, pad),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
        const [xs, fs] = saved as [tf.Tensor4D, tf.Tensor4D];
        const dy4 = dy as tf.Tensor4D;
        return own ? own(xs, fs, dy4, stride, pad, inputGradient) : stockGrads(xs, fs, dy4, stride, pad, inputGradient);
      },
    };
  });
  return op(x, filter) as tf.Tensor4D;
}
