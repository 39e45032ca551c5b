// How a native kernel becomes a tfjs kernel config: it returns its outputs, or null for a case it does not take
// (another dtype, layout or rank), which the cpu backend's kernel of the same name then runs.
import * as tf from '@tensorflow/tfjs-core';
import { type MathBackendOnednn, ONEDNN_BACKEND_NAME } from '../backend.js';
import type { PrecisionCode } from '../native.js';
import { onednnPrecision, PRECISION_CODE } from '../precision.js';

/** What a native kernel receives: the inputs and attributes of the call, and the backend. */
export interface NativeArgs {
  inputs: tf.NamedTensorInfoMap;
  attrs: tf.NamedAttrMap;
  backend: MathBackendOnednn;
}

/** A native implementation: outputs, or null where the cpu kernel must run instead. */
export type NativeImpl = (args: NativeArgs) => tf.TensorInfo | tf.TensorInfo[] | null;

/** The kernel config for `kernelName` on onednn, falling back to the cpu kernel where `impl` returns null. */
export function nativeKernel(kernelName: string, impl: NativeImpl): tf.KernelConfig {
  return {
    kernelName,
    backendName: ONEDNN_BACKEND_NAME,
    kernelFunc: (args) => {
      const backend = args.backend as MathBackendOnednn;
      const out = impl({ inputs: args.inputs, attrs: args.attrs ?? {}, backend });
      if (out !== null) {
        backend.countCall(kernelName);
        return out;
      }
      const cpu = tf.getKernel(kernelName, 'cpu');
      if (!cpu)
        throw new Error(`onednn: ${kernelName}: this case has no native kernel, and the cpu backend has none either`);
      return cpu.kernelFunc(args);
    },
  };
}

/** The values of a float32 tensor, or null if it holds another dtype. */
export function floats(backend: MathBackendOnednn, t: tf.TensorInfo | undefined): Float32Array | null {
  if (t?.dtype !== 'float32' || tf.util.sizeFromShape(t.shape) === 0) return null;
  const values = backend.data.get(t.dataId).values;
  return values instanceof Float32Array ? values : null;
}

/** A float32 output of `shape` and the buffer the native kernel must fill entirely (it may be a reused one). */
export function output(backend: MathBackendOnednn, shape: number[]): { info: tf.TensorInfo; values: Float32Array } {
  return backend.allocateOutput(shape);
}

/** `shape` with leading 1s up to rank 4 (the native kernels' rank), or null past rank 4. */
export function rank4(shape: readonly number[]): number[] | null {
  if (shape.length > 4) return null;
  return [...new Array<number>(4 - shape.length).fill(1), ...shape];
}

/**
 * Runs `call`, a native entry point that takes a precision and returns the one it ran in, at the precision in
 * force, and records how a bf16 call ran.
 */
export function atPrecision(
  backend: MathBackendOnednn,
  kernelName: string,
  call: (precision: PrecisionCode) => PrecisionCode,
): void {
  const precision = onednnPrecision();
  const ran = call(PRECISION_CODE[precision]);
  if (precision === 'bf16') backend.countBf16Call(kernelName, ran === PRECISION_CODE.bf16);
}
