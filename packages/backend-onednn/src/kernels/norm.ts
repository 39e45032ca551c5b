// Batch norm in training mode, as two kernels of depthfold's own (tfjs has none that returns the batch
// statistics): forward gives y, the mean and the biased variance over N, H, W; backward gives dx, dgamma, dbeta
// from x and those statistics. The train package's batchNormTrain calls them on this backend.
import type * as tf from '@tensorflow/tfjs-core';
import { floats, nativeKernel, output, type NativeArgs } from './native-kernel.js';

/** Names of the kernels that only this backend has. */
export const OnednnKernel = {
  /** inputs {x (NHWC), gamma, beta}, attrs {epsilon}; outputs [y, mean, variance]. */
  BatchNormTrain: 'DepthfoldBatchNormTrain',
  /** inputs {x, dy, mean, variance, gamma}, attrs {epsilon}; outputs [dx, dgamma, dbeta]. */
  BatchNormTrainGrad: 'DepthfoldBatchNormTrainGrad',
  /** inputs {dy, x}; output dy where x > 0, else 0 (the gradient of ReLU). */
  ReluGrad: 'DepthfoldReluGrad',
  /** inputs {w, g, v?}, attrs {learningRate, momentum, weightDecay}; outputs [w, v] after one Nesterov SGD step. */
  SgdNesterov: 'DepthfoldSgdNesterov',
} as const;

function requireFloats(
  backend: NativeArgs['backend'],
  inputs: tf.NamedTensorInfoMap,
  kernel: string,
  names: string[],
): Float32Array[] {
  return names.map((name) => {
    const values = floats(backend, inputs[name]);
    if (!values)
      throw new Error(
        `${kernel}: ${name}: expected a non-empty float32 tensor, received ${inputs[name]?.dtype ?? 'none'}`,
      );
    return values;
  });
}

function shapeOf(x: tf.TensorInfo, kernel: string): number[] {
  if (x.shape.length !== 4)
    throw new Error(`${kernel}: x: expected a rank-4 NHWC tensor, received shape [${x.shape.join(', ')}]`);
  return x.shape;
}

function batchNormTrain({ inputs, attrs, backend }: NativeArgs): tf.TensorInfo[] {
  const kernel = OnednnKernel.BatchNormTrain;
  const [x, gamma, beta] = requireFloats(backend, inputs, kernel, ['x', 'gamma', 'beta']) as [
    Float32Array,
    Float32Array,
    Float32Array,
  ];
  const shape = shapeOf(inputs.x!, kernel);
  const channels = shape[3]!;
  const y = output(backend, shape);
  const mean = output(backend, [channels]);
  const variance = output(backend, [channels]);
  backend.native.batchNormForward(
    shape,
    attrs.epsilon as number,
    x,
    gamma,
    beta,
    y.values,
    mean.values,
    variance.values,
  );
  return [y.info, mean.info, variance.info];
}

function batchNormTrainGrad({ inputs, attrs, backend }: NativeArgs): tf.TensorInfo[] {
  const kernel = OnednnKernel.BatchNormTrainGrad;
  const names = ['x', 'dy', 'mean', 'variance', 'gamma'];
  const [x, dy, mean, variance, gamma] = requireFloats(backend, inputs, kernel, names) as Float32Array[] as [
    Float32Array,
    Float32Array,
    Float32Array,
    Float32Array,
    Float32Array,
  ];
  const shape = shapeOf(inputs.x!, kernel);
  const dx = output(backend, shape);
  const dgamma = output(backend, [shape[3]!]);
  const dbeta = output(backend, [shape[3]!]);
  backend.native.batchNormBackward(
    shape,
    attrs.epsilon as number,
    x,
    dy,
    mean,
    variance,
    gamma,
    dx.values,
    dgamma.values,
    dbeta.values,
  );
  return [dx.info, dgamma.info, dbeta.info];
}

function reluGrad({ inputs, backend }: NativeArgs): tf.TensorInfo {
  const [dy, x] = requireFloats(backend, inputs, OnednnKernel.ReluGrad, ['dy', 'x']) as [Float32Array, Float32Array];
  const dx = output(backend, inputs.x!.shape);
  backend.native.reluBackward(dy, x, dx.values);
  return dx.info;
}

/** The kernels of depthfold's own. */
export const trainingKernels = [
  nativeKernel(OnednnKernel.BatchNormTrain, batchNormTrain),
  nativeKernel(OnednnKernel.BatchNormTrainGrad, batchNormTrainGrad),
  nativeKernel(OnednnKernel.ReluGrad, reluGrad),
];
