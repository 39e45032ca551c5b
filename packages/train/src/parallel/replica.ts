// One replica of the network with its optimizer: what the local engine runs in-process and each worker runs in
// its thread.
import * as tf from '@tensorflow/tfjs-core';
import type { NamedTensor } from '@depthfold/core';
import { forward } from '../forward.js';
import { disposeNetwork, networkFromTensors, networkTensors, type Network } from '../network.js';
import { Sgd } from '../optimizer.js';
import { decayedParameters, trainStep } from '../train-step.js';
import { soloCollective, type Collective } from './collective.js';
import type { Batch, EngineInit, StepOutcome, StepSettings } from './engine.js';

/** A network, its optimizer and the collective it trains with. */
export class Replica {
  private readonly net: Network;
  private readonly optimizer = new Sgd();
  private readonly decayed: Set<string>;

  constructor(
    init: EngineInit,
    private readonly collective: Collective = soloCollective,
  ) {
    this.net = networkFromTensors(init.topology, init.params);
    this.optimizer.restore(init.momentum);
    this.decayed = decayedParameters(init.topology);
  }

  private tensors(batch: Batch): [tf.Tensor4D, tf.Tensor1D] {
    const { height, width, channels } = this.net.topology.input;
    return [
      tf.tensor4d(batch.pixels.subarray(0, batch.count * height * width * channels), [
        batch.count,
        height,
        width,
        channels,
      ]),
      tf.tensor1d(batch.labels.subarray(0, batch.count), 'int32'),
    ];
  }

  /** A step on this replica's shard of a mini-batch of `globalBatch` images; returns the shard's share. */
  async step(shard: Batch, settings: StepSettings, globalBatch: number): Promise<StepOutcome> {
    const [x, y] = this.tensors(shard);
    const hp = { learningRate: settings.learningRate, momentum: settings.momentum, weightDecay: settings.weightDecay };
    const r = trainStep(this.net, this.optimizer, x, y, settings.gates, this.decayed, hp, this.collective, globalBatch);
    const loss = (await r.loss.data())[0]!;
    const correct = (await r.correct.data())[0]!;
    const magnitudes = await r.gradMagnitudes.values.data();
    tf.dispose([x, y, r.loss, r.correct, r.gradMagnitudes.values]);
    return {
      loss,
      correct,
      gradMagnitudes: Object.fromEntries(r.gradMagnitudes.names.map((n, i) => [n, magnitudes[i]!])),
    };
  }

  /** Summed loss and correct count of a batch in test mode. */
  async evaluate(batch: Batch, survivalProbs: readonly number[]): Promise<{ lossSum: number; correct: number }> {
    const [x, y] = this.tensors(batch);
    // Per image, summed here: a reduction of a batch of one to a scalar is refused by oneDNN (same-size reduction).
    const [loss, hits] = tf.tidy(() => {
      const { logits } = forward(this.net, x, { training: false, survivalProbs });
      const oneHot = tf.oneHot(y, this.net.topology.numClasses);
      return [
        tf.losses.softmaxCrossEntropy(oneHot, logits, undefined, undefined, tf.Reduction.NONE),
        tf.equal(tf.argMax(logits, 1), y),
      ];
    });
    let lossSum = 0;
    for (const v of await loss.data()) lossSum += v;
    let correct = 0;
    for (const v of await hits.data()) correct += v;
    tf.dispose([x, y, loss, hits]);
    return { lossSum, correct };
  }

  /** Parameters and momentum as plain data. */
  async state(): Promise<{ params: Map<string, NamedTensor>; momentum: Map<string, NamedTensor> }> {
    return { params: await networkTensors(this.net), momentum: await this.optimizer.state() };
  }

  dispose(): void {
    disposeNetwork(this.net);
    this.optimizer.dispose();
  }
}
