// Mean and Sum over axes (global average pooling, bias gradients) and BatchMatMul (the head) on oneDNN.
import * as tf from '@tensorflow/tfjs-core';
import { atPrecision, floats, nativeKernel, output, rank4, type NativeArgs } from './native-kernel.js';

function reduce(op: 0 | 1) {
  return ({ inputs, attrs, backend }: NativeArgs): tf.TensorInfo | null => {
    const x = inputs.x!;
    const { axis, keepDims } = attrs as unknown as tf.SumAttrs;
    const xs = floats(backend, x);
    const src = rank4(x.shape);
    const axes = tf.util.parseAxisParam(axis, x.shape);
    if (!xs || !src || axes.length === 0) return null;
    const lead = 4 - x.shape.length;
    const dst = src.map((s, i) => (axes.includes(i - lead) ? 1 : s));
    const shape = keepDims ? dst.slice(lead) : x.shape.filter((_, i) => !axes.includes(i));
    const y = output(backend, shape);
    if (op === 0 && x.shape.length === 4 && axes.length === 2 && axes.includes(1) && axes.includes(2)) {
      // Global average pooling: oneDNN 2.6 reduces the middle axes of NHWC with its reference code (~30x slower),
      // but pools over the whole window with a JIT kernel.
      const [n, h, w, c] = x.shape as [number, number, number, number];
      backend.native.avgPoolForward([n, h, w, c, 1, 1, h, w, 1, 1, 0, 0, 0, 0], xs, y.values);
    } else {
      backend.native.reduce(op, src, dst, xs, y.values);
    }
    return y.info;
  };
}

/** a @ b over matching leading (batch) axes, at the precision in force; batches that broadcast run on the cpu kernel. */
function batchMatMul({ inputs, attrs, backend }: NativeArgs): tf.TensorInfo | null {
  const { a, b } = inputs;
  const { transposeA, transposeB } = attrs as unknown as tf.BatchMatMulAttrs;
  const as = floats(backend, a);
  const bs = floats(backend, b);
  if (!as || !bs || a!.shape.length < 2 || a!.shape.length !== b!.shape.length) return null;
  const lead = a!.shape.slice(0, -2);
  if (!tf.util.arraysEqual(lead, b!.shape.slice(0, -2))) return null;
  const [a1, a2] = a!.shape.slice(-2) as [number, number];
  const [b1, b2] = b!.shape.slice(-2) as [number, number];
  const [m, k] = transposeA ? [a2, a1] : [a1, a2];
  const [kb, n] = transposeB ? [b2, b1] : [b1, b2];
  if (k !== kb) return null;
  const y = output(backend, [...lead, m, n]);
  const shape = [tf.util.sizeFromShape(lead), m, k, n];
  atPrecision(backend, tf.BatchMatMul, (p) =>
    backend.native.matMul(shape, transposeA, transposeB, as, bs, y.values, p),
  );
  return y.info;
}

/** The reduction and MatMul kernels. */
export const reduceKernels = [
  nativeKernel(tf.Mean, reduce(0)),
  nativeKernel(tf.Sum, reduce(1)),
  nativeKernel(tf.BatchMatMul, batchMatMul),
];
