// ReLU, |x| and the four arithmetic operators on oneDNN. A binary op runs natively where its output has the first
// operand's shape (or, for + and *, the second's) and the other broadcasts into it, and is large enough to pay
// for the call; other cases run on the cpu.
import * as tf from '@tensorflow/tfjs-core';
import { floats, nativeKernel, output, rank4, type NativeArgs } from './native-kernel.js';

const sameShape = (a: readonly number[], b: readonly number[]) => tf.util.arraysEqual(a as number[], b as number[]);

function relu({ inputs, backend }: NativeArgs): tf.TensorInfo | null {
  const xs = floats(backend, inputs.x);
  if (!xs) return null;
  const y = output(backend, inputs.x!.shape);
  backend.native.relu(xs, y.values);
  return y.info;
}

/** |x|, natively above {@link MIN_NATIVE_BINARY} elements (training's gradient magnitudes take it of every monitored gradient). */
function abs({ inputs, backend }: NativeArgs): tf.TensorInfo | null {
  if (tf.util.sizeFromShape(inputs.x!.shape) < MIN_NATIVE_BINARY) return null;
  const xs = floats(backend, inputs.x);
  if (!xs) return null;
  const y = output(backend, inputs.x!.shape);
  backend.native.abs(xs, y.values);
  return y.info;
}

/** `shape` aligned to the right against an output of rank `rank`, then to rank 4. */
function aligned(shape: readonly number[], rank: number): number[] | null {
  return rank4([...new Array<number>(rank - shape.length).fill(1), ...shape]);
}

/**
 * Below this many output elements a binary op stays on the cpu kernel: the optimizer's hundreds of small ops per
 * step cost more in a native call (and a parallel region) than in a JS loop.
 */
export const MIN_NATIVE_BINARY = 16384;

function binary(op: 0 | 1 | 2 | 3, commutative: boolean) {
  return ({ inputs, backend }: NativeArgs): tf.TensorInfo | null => {
    let [a, b] = [inputs.a!, inputs.b!];
    const out = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    if (tf.util.sizeFromShape(out) < MIN_NATIVE_BINARY) return null;
    if (!sameShape(a.shape, out)) {
      if (!commutative || !sameShape(b.shape, out)) return null;
      [a, b] = [b, a];
    }
    const as = floats(backend, a);
    const bs = floats(backend, b);
    const aShape = rank4(out);
    const bShape = aligned(b.shape, out.length);
    if (!as || !bs || !aShape || !bShape) return null;
    const y = output(backend, out);
    backend.native.binary(op, aShape, bShape, as, bs, y.values);
    return y.info;
  };
}

/** The element-wise kernels. */
export const eltwiseKernels = [
  nativeKernel(tf.Relu, relu),
  nativeKernel(tf.Abs, abs),
  nativeKernel(tf.Add, binary(0, true)),
  nativeKernel(tf.Sub, binary(1, false)),
  nativeKernel(tf.Multiply, binary(2, true)),
  nativeKernel(tf.RealDiv, binary(3, false)),
];
