// The wasm backend's training kernels: the gradients of a convolution as forward convolutions, which run through
// XNNPACK, because the wasm backend has no Conv2DBackpropFilter kernel and its Conv2DBackpropInput is about ten times
// slower than its forward conv. With y = conv(x, f; stride s, pad p) and a k x k filter:
//   dx = conv(dilate_s(dy), flip(f)^T; stride 1, pad k-1-p)   (flip: both spatial axes, ^T: swap in/out channels)
//   df = conv(x^T, dy^T; stride 1, pad p, dilation s)^T      (^T: swap batch and channels; dy^T is the filter)
import * as tf from '@tensorflow/tfjs-core';
import { axis } from './conv-geometry.js';
import type { TrainingKernels } from './training-kernels.js';

/**
 * The gradient of {@link conv2d} with respect to its input, computed as a forward convolution so that it runs
 * through the backend's fast Conv2D kernel.
 *
 * @param xShape - Shape of the convolution's input x, NHWC.
 * @param dy - Gradient of the loss with respect to the convolution's output, NHWC.
 * @param filter - The convolution's filter, HWIO.
 * @param stride - The convolution's stride along both spatial axes.
 * @param pad - The convolution's symmetric zero padding, within [0, k-1].
 * @returns dx, of shape `xShape`.
 */
export function conv2dInputGrad(
  xShape: readonly [number, number, number, number],
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  stride: 1 | 2,
  pad: number,
): tf.Tensor4D {
  const h = axis(xShape[1], filter.shape[0], stride, pad);
  const w = axis(xShape[2], filter.shape[1], stride, pad);
  return tf.tidy(() => {
    const [n, ho, wo, cout] = dy.shape;
    // Padding after dy: k-1-p plus the rows no window reached, so that the output is exactly x's size.
    let after = [h.kernel - 1 - pad + h.rest, w.kernel - 1 - pad + w.rest];
    let grad = dy;
    if (stride === 2) {
      // Zeros are interleaved by padding two unit axes, which also leaves one zero row and column at the end:
      // they count towards the padding after, and are cut only where none is wanted (1x1 kernels).
      const spread = tf.pad(tf.reshape(dy, [n, ho, 1, wo, 1, cout]), [
        [0, 0],
        [0, 0],
        [0, 1],
        [0, 0],
        [0, 1],
        [0, 0],
      ]);
      grad = tf.reshape(spread, [n, 2 * ho, 2 * wo, cout]);
      const cut = after.map((a) => (a === 0 ? 1 : 0));
      if (cut[0]! + cut[1]! > 0) {
        grad = tf.slice(grad, 0, [n, 2 * ho - cut[0]!, 2 * wo - cut[1]!, cout]);
      }
      after = after.map((a, i) => a - 1 + cut[i]!);
    }
    const flipped = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
    return tf.conv2d(grad, flipped, 1, [
      [0, 0],
      [h.kernel - 1 - pad, after[0]!],
      [w.kernel - 1 - pad, after[1]!],
      [0, 0],
    ]);
  });
}

/**
 * The gradient of {@link conv2d} with respect to its filter, computed as one forward convolution so that it runs
 * through the backend's fast Conv2D kernel: the sum over batch and output positions that makes dfilter is a conv
 * of x, with channels as its batch and the batch as its channels, by dy used as a filter dilated by the stride.
 *
 * @param x - The convolution's input, NHWC.
 * @param dy - Gradient of the loss with respect to the convolution's output, NHWC.
 * @param filterShape - Shape of the convolution's filter, HWIO.
 * @param stride - The convolution's stride along both spatial axes.
 * @param pad - The convolution's symmetric zero padding, within [0, k-1].
 * @returns dfilter, of shape `filterShape`.
 */
export function conv2dFilterGrad(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: readonly [number, number, number, number],
  stride: 1 | 2,
  pad: number,
): tf.Tensor4D {
  const [kh, kw, cin, cout] = filterShape;
  const h = axis(x.shape[1], kh, stride, pad);
  const w = axis(x.shape[2], kw, stride, pad);
  return tf.tidy(() => {
    const xT = tf.transpose(x, [3, 1, 2, 0]) as tf.Tensor4D; // [Cin, H, W, N]
    const dyT = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D; // [Ho, Wo, N, Cout]
    // [Cin, kh + rest, kw + rest, Cout]: the rows no window reached come out as extra taps, cut below.
    let grad = tf.conv2d(
      xT,
      dyT,
      1,
      [
        [0, 0],
        [pad, pad],
        [pad, pad],
        [0, 0],
      ],
      'NHWC',
      stride,
    );
    if (h.rest + w.rest > 0) {
      grad = tf.slice(grad, 0, [cin, kh, kw, cout]);
    }
    return tf.transpose(grad, [1, 2, 0, 3]);
  });
}

/** wasm's training kernels (see this file's header). */
export const wasmTrainingKernels: TrainingKernels = Object.freeze({
  conv2dGradients(
    x: tf.Tensor4D,
    filter: tf.Tensor4D,
    dy: tf.Tensor4D,
    stride: number,
    pad: number,
    inputGradient: boolean,
  ): [tf.Tensor4D, tf.Tensor4D] {
    if (stride !== 1 && stride !== 2)
      throw new Error(`conv2d: the wasm backend's gradients take stride 1 or 2, received ${stride}`);
    // The network's input needs no gradient: zeros cost a fill, not a convolution.
    const dx = inputGradient ? conv2dInputGrad(x.shape, dy, filter, stride, pad) : tf.zerosLike(x);
    return [dx, conv2dFilterGrad(x, dy, filter.shape, stride, pad)];
  },
});
