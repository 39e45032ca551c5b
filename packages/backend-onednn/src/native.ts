// Finds and loads the oneDNN addon, in one place. Where it is missing, the reason is the one the build wrote
// (native/build/unavailable.txt), or the loader's own error: the package imports without it and reports why.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OnednnPrecision } from './precision.js';

/** The library's version, the instruction set its kernels run on, and its OpenMP threads, as the addon reports them. */
export interface OnednnNativeInfo {
  version: string;
  /** oneDNN's effective ISA (`dnnl::get_effective_cpu_isa()`), capped by `ONEDNN_MAX_CPU_ISA` where it is set. */
  isa: string;
  threads: number;
}

/** {@link OnednnNativeInfo}, and the precision of the convolutions and matmuls in force. */
export interface OnednnInfo extends OnednnNativeInfo {
  precision: OnednnPrecision;
}

/** A precision as the entry points take and return it: 0 fp32, 1 bf16 (see src/precision.ts). */
export type PrecisionCode = 0 | 1;

/** A batch-norm forward entry point: shape is n h w c of an NHWC x; y, mean and variance as the entry point says. */
export type BatchNormForward = (
  shape: number[],
  epsilon: number,
  x: Float32Array,
  gamma: Float32Array,
  beta: Float32Array,
  y: Float32Array,
  mean: Float32Array,
  variance: Float32Array,
) => void;

/**
 * The addon's entry points (native/*.cc). Tensors are row-major Float32Arrays, read and written in place; shapes
 * are checked against the arrays' lengths before any is touched, and a mismatch throws a RangeError.
 */
export interface OnednnBinding {
  info(): OnednnNativeInfo;
  setThreads(threads: number): void;
  /**
   * geometry: n h w ci oh ow co kh kw sh sw dh dw padTop padLeft padBottom padRight; NHWC x/y, HWIO filter. The
   * convolutions and matMul take the precision asked for and return the one they ran in: fp32 where oneDNN has no
   * bf16 implementation of the shape.
   */
  conv2dForward(
    geometry: number[],
    x: Float32Array,
    filter: Float32Array,
    y: Float32Array,
    precision: PrecisionCode,
  ): PrecisionCode;
  conv2dBackwardData(
    geometry: number[],
    dy: Float32Array,
    filter: Float32Array,
    dx: Float32Array,
    precision: PrecisionCode,
  ): PrecisionCode;
  conv2dBackwardWeights(
    geometry: number[],
    x: Float32Array,
    dy: Float32Array,
    dfilter: Float32Array,
    precision: PrecisionCode,
  ): PrecisionCode;
  /** Batch norm in training: the batch's mean and variance (biased) are written. */
  batchNormForward: BatchNormForward;
  /** Batch norm at test time: the given (running) mean and variance are read. */
  batchNormInference: BatchNormForward;
  batchNormBackward(
    shape: number[],
    epsilon: number,
    x: Float32Array,
    dy: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    gamma: Float32Array,
    dx: Float32Array,
    dgamma: Float32Array,
    dbeta: Float32Array,
  ): void;
  relu(x: Float32Array, y: Float32Array): void;
  abs(x: Float32Array, y: Float32Array): void;
  /** One SGD step with Nesterov momentum and weight decay; v may be null (a parameter's first step). */
  sgdNesterov(
    w: Float32Array,
    g: Float32Array,
    v: Float32Array | null,
    learningRate: number,
    momentum: number,
    weightDecay: number,
    wOut: Float32Array,
    vOut: Float32Array,
  ): void;
  reluBackward(dy: Float32Array, x: Float32Array, dx: Float32Array): void;
  /** op: 0 add, 1 sub, 2 mul, 3 div; 4-D shapes, b broadcast where its extent is 1. */
  binary(op: number, aShape: number[], bShape: number[], a: Float32Array, b: Float32Array, y: Float32Array): void;
  /** geometry: n h w c oh ow kh kw sh sw padTop padLeft padBottom padRight. */
  avgPoolForward(geometry: number[], x: Float32Array, y: Float32Array): void;
  avgPoolBackward(geometry: number[], dy: Float32Array, dx: Float32Array): void;
  /** Max pooling, padded taps skipped; on ties the first tap in row-major window order wins. Same geometry. */
  maxPoolForward(geometry: number[], x: Float32Array, y: Float32Array): void;
  /** The gradient of max pooling, from its input x (the forward runs again inside). */
  maxPoolBackward(geometry: number[], x: Float32Array, dy: Float32Array, dx: Float32Array): void;
  pad(srcShape: number[], before: number[], dstShape: number[], x: Float32Array, y: Float32Array): void;
  slice(srcShape: number[], begin: number[], dstShape: number[], x: Float32Array, y: Float32Array): void;
  /** op: 0 mean, 1 sum, over the axes where dstShape is 1 (4-D shapes). */
  reduce(op: number, srcShape: number[], dstShape: number[], x: Float32Array, y: Float32Array): void;
  /** shape: batch m k n. */
  matMul(
    shape: number[],
    transposeA: boolean,
    transposeB: boolean,
    a: Float32Array,
    b: Float32Array,
    y: Float32Array,
    precision: PrecisionCode,
  ): PrecisionCode;
}

const buildDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'native', 'build');
const ADDON = join(buildDir, 'Release', 'depthfold_onednn.node');
const BUILD_REASON = join(buildDir, 'unavailable.txt');

let loaded: { binding: OnednnBinding } | { reason: string } | undefined;

/** The addon, or why it cannot be had on this machine. Loaded once. */
export function loadBinding(): { binding: OnednnBinding } | { reason: string } {
  if (loaded) return loaded;
  if (!existsSync(ADDON)) {
    const why = existsSync(BUILD_REASON)
      ? readFileSync(BUILD_REASON, 'utf8').trim()
      : 'the workspace build has not run';
    loaded = { reason: `the oneDNN addon is not built (${ADDON}): ${why}` };
    return loaded;
  }
  try {
    loaded = { binding: createRequire(import.meta.url)(ADDON) as OnednnBinding };
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    loaded = { reason: `the oneDNN addon did not load: ${message}` };
  }
  return loaded;
}
