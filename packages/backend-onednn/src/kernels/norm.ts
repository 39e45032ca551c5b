// Batch norm. In training mode, as two kernels of depthfold's own (tfjs has none that returns the batch
// statistics): forward gives y, the mean and the biased variance over N, H, W; backward gives dx, dgamma, dbeta
// from x and those statistics. The train package's batchNormTrain calls them on this backend. At test time,
// tfjs's own FusedBatchNorm with running statistics (evaluation would otherwise spend most of its time in the cpu
// backend's JS loop).
import * as tf from '@tensorflow/tfjs-core';
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

/**
 * tfjs's FusedBatchNorm on an NHWC x with per-channel statistics, scale and offset and a positive epsilon; other
 * cases run on the cpu.
 */
function batchNormInference({ inputs, attrs, backend }: NativeArgs): tf.TensorInfo | null {
  const { x, mean, variance, scale, offset } = inputs;
  if (x?.shape.length !== 4) return null;
  const channels = x.shape[3]!;
  const perChannel = [mean, variance, scale, offset].map((t) =>
    t && tf.util.sizeFromShape(t.shape) === channels ? floats(backend, t) : null,
  );
  const xs = floats(backend, x);
  const epsilon = attrs.varianceEpsilon as number;
  // oneDNN takes only a positive epsilon; tfjs allows 0, which the cpu kernel computes.
  if (!xs || perChannel.some((t) => !t) || !(epsilon > 0)) return null;
  const [m, v, gamma, beta] = perChannel as [Float32Array, Float32Array, Float32Array, Float32Array];
  const y = output(backend, x.shape);
  backend.native.batchNormInference(x.shape, epsilon, xs, gamma, beta, y.values, m, v);
  return y.info;
}

function reluGrad({ inputs, backend }: NativeArgs): tf.TensorInfo {
  const [dy, x] = requireFloats(backend, inputs, OnednnKernel.ReluGrad, ['dy', 'x']) as [Float32Array, Float32Array];
  const dx = output(backend, inputs.x!.shape);
  backend.native.reluBackward(dy, x, dx.values);
  return dx.info;
}

/** depthfold's own kernels (batch norm in training, the gradient of ReLU), and tfjs's FusedBatchNorm for test time. */
export const normKernels = [
  nativeKernel(tf.FusedBatchNorm, batchNormInference),
  nativeKernel(OnednnKernel.BatchNormTrain, batchNormTrain),
  nativeKernel(OnednnKernel.BatchNormTrainGrad, batchNormTrainGrad),
  nativeKernel(OnednnKernel.ReluGrad, reluGrad),
];
