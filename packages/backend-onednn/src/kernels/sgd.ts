// The optimizer's step for one parameter as one kernel: SGD with Nesterov momentum and L2 weight decay, in
// PyTorch's formulation and in the order of train's Sgd (g' = g + wd*w, v = mu*v + g', w = w - lr*(g' + mu*v)).
// Through tfjs ops it is eight kernels per parameter, whose dispatch costs more than the arithmetic on a ResNet's
// small tensors. Small tensors loop in JS (a native call costs more than their arithmetic); large ones (ResNet-50 has
// 25M parameters) in native/sgd.cc, on every thread, rounding alike.
import type * as tf from '@tensorflow/tfjs-core';
import { floats, nativeKernel, output, type NativeArgs } from './native-kernel.js';
import { OnednnKernel } from './norm.js';

/** Below this many parameters the step loops in JS: a native call and its parallel region cost more. */
export const MIN_NATIVE_SGD = 16384;

function sgdNesterov({ inputs, attrs, backend }: NativeArgs): tf.TensorInfo[] {
  const kernel = OnednnKernel.SgdNesterov;
  const w = floats(backend, inputs.w);
  const g = floats(backend, inputs.g);
  const v = inputs.v ? floats(backend, inputs.v) : undefined;
  if (!w || !g || v === null || g.length !== w.length || (v && v.length !== w.length)) {
    const shapes = ['w', 'g', 'v'].map(
      (k) => `${k} ${inputs[k] ? `${inputs[k]!.dtype}[${inputs[k]!.shape.join(', ')}]` : 'none'}`,
    );
    throw new Error(`${kernel}: expected float32 w, g (and v) of one shape, received ${shapes.join(', ')}`);
  }
  const hp = attrs as { learningRate: number; momentum: number; weightDecay: number };
  // tfjs holds the hyper-parameters as float32 scalars.
  const [lr, mu, wd] = [hp.learningRate, hp.momentum, hp.weightDecay].map(Math.fround) as [number, number, number];
  const shape = inputs.w!.shape;
  const wNext = output(backend, shape);
  const vNext = output(backend, shape);
  const [wo, vo] = [wNext.values, vNext.values];
  if (w.length >= MIN_NATIVE_SGD) {
    backend.native.sgdNesterov(w, g, v ?? null, lr, mu, wd, wo, vo);
    return [wNext.info, vNext.info];
  }
  // Math.fround after each operation rounds as float32 tensors would, so the step equals the tfjs ops' one.
  const f = Math.fround;
  for (let i = 0; i < w.length; i++) {
    const gi = wd > 0 ? f(g[i]! + f(w[i]! * wd)) : g[i]!;
    const vi = v ? f(f(v[i]! * mu) + gi) : gi;
    vo[i] = vi;
    wo[i] = f(w[i]! - f(f(gi + f(vi * mu)) * lr));
  }
  return [wNext.info, vNext.info];
}

/** The optimizer's kernel. */
export const optimizerKernels = [nativeKernel(OnednnKernel.SgdNesterov, sgdNesterov)];
