// The option-A shortcut's kernels on oneDNN: unpadded average pooling (a 1x1 pool subsamples) and its gradient,
// zero padding (PadV2) and its gradient, Slice. A slice that is one contiguous run stays on the cpu kernel,
// which returns a view without copying.
import * as tf from '@tensorflow/tfjs-core';
import { floats, nativeKernel, output, rank4, type NativeArgs } from './native-kernel.js';

type PoolAttrs = tf.AvgPoolAttrs;

/** The 14 integers of native/layout.cc's pool geometry, or null where the pool pads (tfjs's cpu kernels average
 * over the valid taps forward but over the whole window backward, which no native algorithm repeats). */
function poolGeometry(xShape: number[], attrs: PoolAttrs): number[] | null {
  const p = tf.backend_util.computePool2DInfo(
    xShape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const { top, left, bottom, right } = p.padInfo;
  if (top || left || bottom || right) return null;
  return [
    p.batchSize,
    p.inHeight,
    p.inWidth,
    p.inChannels,
    p.outHeight,
    p.outWidth,
    p.filterHeight,
    p.filterWidth,
    p.strideHeight,
    p.strideWidth,
    0,
    0,
    0,
    0,
  ];
}

function avgPool({ inputs, attrs, backend }: NativeArgs): tf.TensorInfo | null {
  const x = inputs.x!;
  const xs = floats(backend, x);
  if (!xs || x.shape.length !== 4) return null;
  const g = poolGeometry(x.shape, attrs as unknown as PoolAttrs);
  if (!g) return null;
  const y = output(backend, [g[0]!, g[4]!, g[5]!, g[3]!]);
  backend.native.avgPoolForward(g, xs, y.values);
  return y.info;
}

function avgPoolGrad({ inputs, attrs, backend }: NativeArgs): tf.TensorInfo | null {
  const { dy, input } = inputs;
  const dys = floats(backend, dy);
  if (!dys || !input || input.shape.length !== 4) return null;
  const g = poolGeometry(input.shape, attrs as unknown as PoolAttrs);
  if (!g) return null;
  const dx = output(backend, [...input.shape]);
  backend.native.avgPoolBackward(g, dys, dx.values);
  return dx.info;
}

function pad({ inputs, attrs, backend }: NativeArgs): tf.TensorInfo | null {
  const x = inputs.x!;
  const { paddings, constantValue } = attrs as unknown as tf.PadV2Attrs;
  const xs = floats(backend, x);
  const src = rank4(x.shape);
  if (!xs || !src || constantValue !== 0) return null;
  const lead = 4 - x.shape.length;
  const before = src.map((_, i) => (i < lead ? 0 : paddings[i - lead]![0]));
  const dst = src.map((s, i) => (i < lead ? s : s + paddings[i - lead]![0] + paddings[i - lead]![1]));
  if (before.some((b) => b < 0) || dst.some((d, i) => d < src[i]! + before[i]!)) return null;
  const y = output(backend, dst.slice(lead));
  backend.native.pad(src, before, dst, xs, y.values);
  return y.info;
}

function slice({ inputs, attrs, backend }: NativeArgs): tf.TensorInfo | null {
  const x = inputs.x!;
  const { begin, size } = attrs as unknown as tf.SliceAttrs;
  const [b, s] = tf.slice_util.parseSliceParams(x, begin, size) as [number[], number[]];
  tf.slice_util.assertParamsValid(x, b, s);
  const xs = floats(backend, x);
  const src = rank4(x.shape);
  if (!xs || !src || s.some((e) => e === 0) || tf.slice_util.isSliceContinous(x.shape, b, s)) return null;
  const lead = 4 - x.shape.length;
  const y = output(backend, s);
  backend.native.slice(src, [...new Array<number>(lead).fill(0), ...b], rank4(s)!, xs, y.values);
  return y.info;
}

/** The pooling, padding and slicing kernels. */
export const layoutKernels = [
  nativeKernel(tf.AvgPool, avgPool),
  nativeKernel(tf.AvgPoolGrad, avgPoolGrad),
  nativeKernel(tf.PadV2, pad),
  nativeKernel(tf.Slice, slice),
];
