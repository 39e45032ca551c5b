// The kernels a backend may run its own way in training, registered per backend as tfjs registers its kernels
// (a config keyed by name and backend), so that a backend's logic lives in its own package: train's ops ask the
// registry of the active backend and fall back to their generic tfjs form. The built-in sets are backend-kernels.ts's
// table: @depthfold/backend-onednn's (native ReLU gradient, batch norm, fused SGD) and wasm's (conv gradients as
// forward convs); another backend registers its own.
import * as tf from '@tensorflow/tfjs-core';
import type { SgdStep } from '../optimizer.js';
import { BACKEND_TRAINING_KERNELS } from './backend-kernels.js';

/** Batch-norm output and the batch statistics it used (the caller keeps and disposes the statistics). */
export interface BatchNormOutput {
  y: tf.Tensor4D;
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
}

/** What a backend may replace; every entry is optional, and each is a drop-in for the generic form. */
export interface TrainingKernels {
  /**
   * dx and dfilter of `tf.conv2d(x, filter, stride, pad)` (NHWC, HWIO); dx is zeros where `inputGradient` is false.
   */
  conv2dGradients?(
    x: tf.Tensor4D,
    filter: tf.Tensor4D,
    dy: tf.Tensor4D,
    stride: number,
    pad: number,
    inputGradient: boolean,
  ): [tf.Tensor4D, tf.Tensor4D];
  /** The gradient of ReLU: dy where x > 0, else 0. */
  reluGradient?(dy: tf.Tensor, x: tf.Tensor): tf.Tensor;
  /** Batch norm in training over N, H, W of one replica's batch; differentiable in x, gamma and beta. */
  batchNormTrain?(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number): BatchNormOutput;
  /**
   * One SGD step with Nesterov momentum and weight decay (PyTorch's formulation): assigns w, returns the new momentum
   * buffer (`previous` is left to the caller).
   */
  sgdStep?(w: tf.Variable, grad: tf.Tensor, decay: boolean, previous: tf.Tensor | undefined, hp: SgdStep): tf.Tensor;
}

const registry = new Map<string, TrainingKernels>(Object.entries(BACKEND_TRAINING_KERNELS));

/** Registers `kernels` for the tfjs backend `backendName` (a later registration replaces an earlier one). */
export function registerTrainingKernels(backendName: string, kernels: TrainingKernels): void {
  registry.set(backendName, kernels);
}

/** The training kernels of the active tfjs backend (none registered: every op takes its generic form). */
export function trainingKernels(): TrainingKernels {
  return registry.get(tf.getBackend()) ?? {};
}
