// Conv2D, Conv2DBackpropInput and Conv2DBackpropFilter (NHWC) on oneDNN, at the precision in force
// (src/precision.ts); NCHW is left to the cpu kernels.
import * as tf from '@tensorflow/tfjs-core';
import { atPrecision, floats, nativeKernel, output, type NativeArgs } from './native-kernel.js';

type ConvAttrs = {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
};

/** The 17 integers of native/conv.cc's geometry, or null for NCHW. */
function geometry(xShape: number[], filterShape: number[], attrs: ConvAttrs): number[] | null {
  if (attrs.dataFormat === 'NCHW') return null;
  const c = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  const p = c.padInfo;
  return [
    c.batchSize,
    c.inHeight,
    c.inWidth,
    c.inChannels,
    c.outHeight,
    c.outWidth,
    c.outChannels,
    c.filterHeight,
    c.filterWidth,
    c.strideHeight,
    c.strideWidth,
    c.dilationHeight,
    c.dilationWidth,
    p.top,
    p.left,
    p.bottom,
    p.right,
  ];
}

function conv2d({ inputs, attrs, backend }: NativeArgs): tf.TensorInfo | null {
  const { x, filter } = inputs;
  const xs = floats(backend, x);
  const fs = floats(backend, filter);
  if (!xs || !fs) return null;
  const g = geometry(x!.shape, filter!.shape, attrs as unknown as ConvAttrs);
  if (!g) return null;
  const y = output(backend, [g[0]!, g[4]!, g[5]!, g[6]!]);
  atPrecision(backend, tf.Conv2D, (p) => backend.native.conv2dForward(g, xs, fs, y.values, p));
  return y.info;
}

function conv2dBackpropInput({ inputs, attrs, backend }: NativeArgs): tf.TensorInfo | null {
  const { dy, filter } = inputs;
  const dys = floats(backend, dy);
  const fs = floats(backend, filter);
  if (!dys || !fs) return null;
  const inputShape = attrs.inputShape as number[];
  const g = geometry(inputShape, filter!.shape, { ...(attrs as unknown as ConvAttrs), dilations: 1 });
  if (!g) return null;
  const dx = output(backend, [...inputShape]);
  atPrecision(backend, tf.Conv2DBackpropInput, (p) => backend.native.conv2dBackwardData(g, dys, fs, dx.values, p));
  return dx.info;
}

function conv2dBackpropFilter({ inputs, attrs, backend }: NativeArgs): tf.TensorInfo | null {
  const { x, dy } = inputs;
  const xs = floats(backend, x);
  const dys = floats(backend, dy);
  if (!xs || !dys) return null;
  const filterShape = attrs.filterShape as number[];
  const g = geometry(x!.shape, filterShape, { ...(attrs as unknown as ConvAttrs), dilations: 1 });
  if (!g) return null;
  const df = output(backend, [...filterShape]);
  atPrecision(backend, tf.Conv2DBackpropFilter, (p) => backend.native.conv2dBackwardWeights(g, xs, dys, df.values, p));
  return df.info;
}

/** The convolution kernels. */
export const convKernels = [
  nativeKernel(tf.Conv2D, conv2d),
  nativeKernel(tf.Conv2DBackpropInput, conv2dBackpropInput),
  nativeKernel(tf.Conv2DBackpropFilter, conv2dBackpropFilter),
];
