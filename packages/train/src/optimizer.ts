// SGD with Nesterov momentum and L2 weight decay (PyTorch's formulation), keyed by parameter name.
// tfjs's built-in optimizers key their slots by the gradient's position in the list, so a step that trains a
// different set of variables (dropped blocks) would apply one variable's momentum to another. Here a parameter
// whose block was dropped is not touched at all: no gradient, no decay, its momentum kept for its next step.
import * as tf from '@tensorflow/tfjs-core';
import type { NamedTensor } from '@depthfold/core';
import { trainingKernels } from './kernels/training-kernels.js';

/** Hyper-parameters of one step. */
export interface SgdStep {
  learningRate: number;
  momentum: number;
  weightDecay: number;
}

/** Momentum buffers by parameter name. */
export class Sgd {
  private readonly buffers = new Map<string, tf.Tensor>();

  /**
   * Updates each variable that has a gradient: g' = g + wd*w (for names in `decayed`), v = mu*v + g',
   * w -= lr * (g' + mu*v).
   */
  step(
    vars: ReadonlyMap<string, tf.Variable>,
    grads: ReadonlyMap<string, tf.Tensor>,
    decayed: ReadonlySet<string>,
    hp: SgdStep,
  ): void {
    for (const [name, grad] of grads) {
      const w = vars.get(name);
      if (!w) throw new Error(`optimizer: no variable named ${name}`);
      const previous = this.buffers.get(name);
      const own = trainingKernels().sgdStep;
      const next = own
        ? own(w, grad, decayed.has(name), previous, hp)
        : tf.tidy(() => {
            const g = decayed.has(name) && hp.weightDecay > 0 ? tf.add(grad, tf.mul(w, hp.weightDecay)) : grad;
            const v = previous ? tf.add(tf.mul(previous, hp.momentum), g) : tf.clone(g);
            w.assign(tf.sub(w, tf.mul(tf.add(g, tf.mul(v, hp.momentum)), hp.learningRate)));
            return v;
          });
      previous?.dispose();
      this.buffers.set(name, next);
    }
  }

  /** The momentum buffers as plain data, for checkpoints. */
  async state(): Promise<Map<string, NamedTensor>> {
    const out = new Map<string, NamedTensor>();
    for (const [name, v] of this.buffers) out.set(name, { shape: v.shape, data: (await v.data()) as Float32Array });
    return out;
  }

  /** Restores momentum buffers saved by `state()`. */
  restore(state: ReadonlyMap<string, NamedTensor>): void {
    this.dispose();
    for (const [name, t] of state) this.buffers.set(name, tf.tensor(t.data, [...t.shape]));
  }

  /** Frees the buffers. */
  dispose(): void {
    for (const v of this.buffers.values()) v.dispose();
    this.buffers.clear();
  }
}
