// Pooling on oneDNN (NHWC): unpadded average pooling (the option-A shortcut's subsampling: a 1x1 pool) and max
// pooling (the ResNet-50 stem's 3x3/2, pad 1), and their gradients. Max pooling skips padded taps as tfjs's cpu
// kernel does (padding acts as -Infinity, as in PyTorch and ONNX), and on ties the first tap in row-major window
// order wins, so the gradient goes where the cpu kernel sends it. Where they differ: a window whose every value is
// -Infinity (or -3.4e38) gives -3.4e38 (oneDNN's lowest float) where the cpu kernel gives -Infinity.
import * as tf from '@tensorflow/tfjs-core';
import { floats, nativeKernel, output, type NativeArgs } from './native-kernel.js';

type PoolAttrs = Pick<tf.AvgPoolAttrs, 'filterSize' | 'strides' | 'pad' | 'dimRoundingMode'>;

function poolInfo(xShape: number[], attrs: PoolAttrs): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computePool2DInfo(
    xShape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
}

/** The 14 integers of native/pool.cc's geometry: n h w c oh ow kh kw sh sw padTop padLeft padBottom padRight. */
function geometry(p: tf.backend_util.Conv2DInfo, pads: [number, number, number, number]): number[] {
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
    ...pads,
  ];
}

/**
 * The geometry of an average pool, or null where it pads (tfjs's cpu kernels average over the valid taps forward
 * but over the whole window backward, which no native algorithm repeats).
 */
function avgPoolGeometry(xShape: number[], attrs: PoolAttrs): number[] | null {
  const p = poolInfo(xShape, attrs);
  const { top, left, bottom, right } = p.padInfo;
  return top || left || bottom || right ? null : geometry(p, [0, 0, 0, 0]);
}

/**
 * The geometry of a max pool, or null for the cpu kernel. oneDNN counts the windows as floor((size + before +
 * after - window) / stride) + 1, so the padding after is the one that makes the last window end where tfjs's does
 * (tfjs's `dimRoundingMode` may round the count up); a window must overlap the input (padding below the window).
 */
function maxPoolGeometry(xShape: number[], attrs: PoolAttrs): number[] | null {
  const p = poolInfo(xShape, attrs);
  const after = (size: number, out: number, window: number, stride: number, before: number) =>
    Math.max(0, (out - 1) * stride + window - size - before);
  const { top, left } = p.padInfo;
  const bottom = after(p.inHeight, p.outHeight, p.filterHeight, p.strideHeight, top);
  const right = after(p.inWidth, p.outWidth, p.filterWidth, p.strideWidth, left);
  const fits = (size: number, out: number, window: number, stride: number, before: number, pastEnd: number) =>
    out >= 1 &&
    before >= 0 &&
    before < window &&
    pastEnd < window &&
    Math.floor((size + before + pastEnd - window) / stride) + 1 === out;
  if (
    !fits(p.inHeight, p.outHeight, p.filterHeight, p.strideHeight, top, bottom) ||
    !fits(p.inWidth, p.outWidth, p.filterWidth, p.strideWidth, left, right)
  )
    return null;
  return geometry(p, [top, left, bottom, right]);
}

function pool(kind: 'avg' | 'max') {
  return ({ inputs, attrs, backend }: NativeArgs): tf.TensorInfo | null => {
    const x = inputs.x!;
    const xs = floats(backend, x);
    if (!xs || x.shape.length !== 4) return null;
    const g = (kind === 'avg' ? avgPoolGeometry : maxPoolGeometry)(x.shape, attrs as unknown as PoolAttrs);
    if (!g) return null;
    const y = output(backend, [g[0]!, g[4]!, g[5]!, g[3]!]);
    if (kind === 'avg') backend.native.avgPoolForward(g, xs, y.values);
    else backend.native.maxPoolForward(g, xs, y.values);
    return y.info;
  };
}

/**
 * Whether dy has the shape of the pool's output. tfjs-core 4.22's MaxPool gradient drops `dimRoundingMode`, so a
 * pool that rounded its output size up gets a larger dy than its geometry has: the cpu kernel then reads the part
 * that fits, and so must this backend.
 */
function matchesOutput(dy: tf.TensorInfo, g: number[]): boolean {
  return tf.util.arraysEqual(dy.shape, [g[0]!, g[4]!, g[5]!, g[3]!]);
}

function avgPoolGrad({ inputs, attrs, backend }: NativeArgs): tf.TensorInfo | null {
  const { dy, input } = inputs;
  const dys = floats(backend, dy);
  if (!dys || !input || input.shape.length !== 4) return null;
  const g = avgPoolGeometry(input.shape, attrs as unknown as PoolAttrs);
  if (!g || !matchesOutput(dy!, g)) return null;
  const dx = output(backend, [...input.shape]);
  backend.native.avgPoolBackward(g, dys, dx.values);
  return dx.info;
}

/** From the pool's input (as the cpu kernel, which reads neither the output nor saved positions). */
function maxPoolGrad({ inputs, attrs, backend }: NativeArgs): tf.TensorInfo | null {
  const { dy, input } = inputs;
  const dys = floats(backend, dy);
  const xs = floats(backend, input);
  if (!dys || !xs || input!.shape.length !== 4) return null;
  const g = maxPoolGeometry(input!.shape, attrs as unknown as PoolAttrs);
  if (!g || !matchesOutput(dy!, g)) return null;
  const dx = output(backend, [...input!.shape]);
  backend.native.maxPoolBackward(g, xs, dys, dx.values);
  return dx.info;
}

/** The pooling kernels. */
export const poolKernels = [
  nativeKernel(tf.AvgPool, pool('avg')),
  nativeKernel(tf.AvgPoolGrad, avgPoolGrad),
  nativeKernel(tf.MaxPool, pool('max')),
  nativeKernel(tf.MaxPoolGrad, maxPoolGrad),
];
