// One optimisation step with stochastic depth: only the variables of the blocks that ran are differentiated and
// updated; batch-norm running statistics are updated only for the batch norms that ran.
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core registers no gradient functions by itself, and its own registration module is not loadable by
// Node's ESM loader; the tfjs union package's Node bundle registers them all on the shared registry.
import '@tensorflow/tfjs';
import { parameterSpecs, type Topology } from '@depthfold/core';
import { forward, type BatchStats } from './forward.js';
import type { Network } from './network.js';
import type { Sgd, SgdStep } from './optimizer.js';
import { soloCollective, type Collective } from './parallel/collective.js';

/** Fraction of the batch statistic mixed into the running statistic each step (PyTorch's default). */
export const BATCH_NORM_MOMENTUM = 0.1;

/** Loss and number of correct top-1 predictions of one step (scalars). */
export interface StepResult {
  loss: tf.Scalar;
  correct: tf.Scalar;
  /** Mean |dL/dW| of each `monitoredParameters` entry that ran this step, in that order (after reduction). */
  gradMagnitudes: { names: string[]; values: tf.Tensor1D };
}

/**
 * The parameters whose gradient magnitude training records: the network's first conv and the first conv of every
 * block's branch, as in the paper's study of vanishing gradients (Huang et al. 2016, Fig. 7).
 */
export function monitoredParameters(topology: Topology): string[] {
  const convs = parameterSpecs(topology).filter((p) => p.kind === 'conv');
  const firsts = new Map<number, string>();
  for (const p of convs) if (p.block > 0 && !firsts.has(p.block)) firsts.set(p.block, p.name);
  return [convs[0]!.name, ...firsts.values()];
}

/** Names of the trainable parameters that a forward pass with these gates uses: none of a dropped block's branch. */
export function activeParameters(topology: Topology, gates: readonly boolean[]): string[] {
  return parameterSpecs(topology)
    .filter((p) => p.trainable && (p.block === 0 || gates[p.block - 1]))
    .map((p) => p.name);
}

/** Names of the parameters that weight decay applies to: conv and dense weights. */
export function decayedParameters(topology: Topology): Set<string> {
  return new Set(
    parameterSpecs(topology)
      .filter((p) => p.kind === 'conv' || p.kind === 'dense-weight')
      .map((p) => p.name),
  );
}

function updateRunningStats(net: Network, stats: ReadonlyMap<string, BatchStats>): void {
  tf.tidy(() => {
    for (const [prefix, { mean, variance, count }] of stats) {
      // Running variance is the unbiased estimate, as in PyTorch; normalisation itself uses the biased one.
      const unbias = count > 1 ? count / (count - 1) : 1;
      const runMean = net.vars.get(`${prefix}.mean`)!;
      const runVar = net.vars.get(`${prefix}.variance`)!;
      runMean.assign(tf.add(tf.mul(runMean, 1 - BATCH_NORM_MOMENTUM), tf.mul(mean, BATCH_NORM_MOMENTUM)));
      runVar.assign(tf.add(tf.mul(runVar, 1 - BATCH_NORM_MOMENTUM), tf.mul(variance, BATCH_NORM_MOMENTUM * unbias)));
    }
  });
}

/** Sums each gradient over the replicas (one exchange for all of them), in a fixed order of names. */
function reduceGradients(
  names: readonly string[],
  grads: ReadonlyMap<string, tf.Tensor>,
  collective: Collective,
): Map<string, tf.Tensor> {
  const sizes = names.map((n) => grads.get(n)!.size);
  const flat = new Float32Array(sizes.reduce((a, b) => a + b, 0));
  let offset = 0;
  names.forEach((n, i) => {
    flat.set(grads.get(n)!.dataSync() as Float32Array, offset);
    offset += sizes[i]!;
  });
  const sum = collective.allReduceSum(flat);
  offset = 0;
  return new Map(
    names.map((n, i) => {
      const g = tf.tensor(sum.subarray(offset, offset + sizes[i]!), grads.get(n)!.shape);
      offset += sizes[i]!;
      return [n, g] as const;
    }),
  );
}

/**
 * Runs forward and backward on one batch with the given gates and applies one SGD step. With data-parallel
 * replicas, `images` is this replica's shard of a mini-batch of `globalBatch` images: the loss is the shard's
 * share of the mini-batch mean, batch norm uses whole-batch statistics and the gradients are summed over replicas,
 * so every replica takes the same step as a single process would (up to float rounding).
 */
export function trainStep(
  net: Network,
  optimizer: Sgd,
  images: tf.Tensor4D,
  labels: tf.Tensor1D,
  gates: readonly boolean[],
  decayed: ReadonlySet<string>,
  hp: SgdStep,
  collective: Collective = soloCollective,
  globalBatch = images.shape[0],
): StepResult {
  const names = activeParameters(net.topology, gates);
  const active = names.map((n) => net.vars.get(n)!);
  let stats = new Map<string, BatchStats>();
  let correct: tf.Scalar | undefined;
  const { value, grads } = tf.variableGrads(() => {
    const result = forward(net, images, { training: true, gates, collective });
    stats = result.batchStats;
    correct = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(result.logits, 1), labels), 'float32')) as tf.Scalar);
    const oneHot = tf.oneHot(tf.cast(labels, 'int32'), net.topology.numClasses);
    const sum = tf.losses.softmaxCrossEntropy(oneHot, result.logits, undefined, undefined, tf.Reduction.SUM);
    return tf.div(sum, globalBatch) as tf.Scalar;
  }, active);
  const local = new Map(names.map((n, i) => [n, grads[active[i]!.name]!] as const));
  const byName = collective.size > 1 ? reduceGradients(names, local, collective) : local;
  const ran = new Set(names);
  const monitored = monitoredParameters(net.topology).filter((n) => ran.has(n));
  const magnitudes = {
    names: monitored,
    values: tf.tidy(() => tf.stack(monitored.map((n) => tf.mean(tf.abs(byName.get(n)!)))) as tf.Tensor1D),
  };
  optimizer.step(net.vars, byName, decayed, hp);
  if (byName !== local) tf.dispose([...byName.values()]);
  updateRunningStats(net, stats);
  for (const s of stats.values()) {
    s.mean.dispose();
    s.variance.dispose();
  }
  tf.dispose(grads);
  return { loss: value, correct: correct!, gradMagnitudes: magnitudes };
}
