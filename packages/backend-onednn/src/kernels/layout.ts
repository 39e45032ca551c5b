// The option-A shortcut's zero padding (PadV2) and its gradient, Slice, on oneDNN. A slice that is one contiguous
// run stays on the cpu kernel, which returns a view without copying.
import * as tf from '@tensorflow/tfjs-core';
import { floats, nativeKernel, output, rank4, type NativeArgs } from './native-kernel.js';

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

/** The padding and slicing kernels. */
export const layoutKernels = [nativeKernel(tf.PadV2, pad), nativeKernel(tf.Slice, slice)];
