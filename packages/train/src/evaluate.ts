// Test-time evaluation: the full-depth network with each branch scaled by p_l (see forward.ts).
import * as tf from '@tensorflow/tfjs-core';
import { fillBatch, fillLabels } from './data/index.js';
import type { SplitSelection } from './data/run-data.js';
import type { NamedTensor, Normalization, Topology } from '@depthfold/core';
import { forward } from './forward.js';
import type { TrainEngine } from './parallel/engine.js';
import { disposeNetwork, networkFromTensors, type Network } from './network.js';

/** Mean cross-entropy and top-1 error over a split. */
export interface Evaluation {
  loss: number;
  error: number;
  examples: number;
}

/** Evaluates in test mode, on `engine`, the images `selection.indices` of `selection.source`. */
export async function evaluate(
  engine: TrainEngine,
  selection: SplitSelection,
  survivalProbs: readonly number[],
  normalization: Normalization,
  batchSize: number,
): Promise<Evaluation> {
  const { source, indices } = selection;
  const count = indices.length;
  const pixels = new Float32Array(batchSize * source.height * source.width * source.channels);
  const labels = new Int32Array(batchSize);
  let lossSum = 0;
  let correct = 0;
  for await (const batch of source.batches(indices, batchSize)) {
    const n = batch.indices.length;
    fillBatch(batch.split, batch.indices, pixels, normalization);
    fillLabels(batch.split, batch.indices, labels);
    const r = await engine.evaluate({ pixels, labels, count: n }, survivalProbs);
    lossSum += r.lossSum;
    correct += r.correct;
  }
  return { loss: lossSum / count, error: 1 - correct / count, examples: count };
}

/** Logits of the network in test mode for a batch of already-normalised NHWC images. */
export function testLogits(net: Network, images: tf.Tensor4D, survivalProbs: readonly number[]): tf.Tensor2D {
  return tf.tidy(() => forward(net, images, { training: false, survivalProbs }).logits);
}

/**
 * Logits of a checkpoint's network in test mode (batch norm and p_l as separate ops, nothing folded) for
 * normalised NHWC pixels: the reference an export is verified against.
 */
export async function checkpointLogits(
  topology: Topology,
  params: ReadonlyMap<string, NamedTensor>,
  survivalProbs: readonly number[],
  pixels: Float32Array,
): Promise<Float32Array> {
  const { height, width, channels } = topology.input;
  const net = networkFromTensors(topology, params);
  try {
    const logits = testLogits(
      net,
      tf.tensor4d(pixels, [pixels.length / (height * width * channels), height, width, channels]),
      survivalProbs,
    );
    const data = (await logits.data()) as Float32Array;
    logits.dispose();
    return data;
  } finally {
    disposeNetwork(net);
  }
}
