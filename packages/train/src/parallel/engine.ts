// Where training steps run: in this thread, or split over data-parallel worker threads (each with its own tfjs
// backend and a replica of the network). Both take the same whole mini-batch and give the same results up to
// float rounding; the trainer does not know which one it drives.
import type { NamedTensor, Topology } from '@depthfold/core';

/** One mini-batch: normalised NHWC pixels and labels. */
export interface Batch {
  pixels: Float32Array;
  labels: Int32Array;
  count: number;
}

/** Loss (mean over the batch) and number of correct top-1 predictions of a step. */
export interface StepOutcome {
  loss: number;
  correct: number;
  /** Mean |gradient| of the monitored parameters that ran (the same on every replica after reduction). */
  gradMagnitudes: Record<string, number>;
}

/** Hyper-parameters of one step. */
export interface StepSettings {
  gates: boolean[];
  learningRate: number;
  momentum: number;
  weightDecay: number;
}

/** Everything a replica needs to start. */
export interface EngineInit {
  topology: Topology;
  params: Map<string, NamedTensor>;
  momentum: Map<string, NamedTensor>;
}

/** Runs training and evaluation steps on a network it owns. */
export interface TrainEngine {
  /** Replicas working on each step. */
  readonly workers: number;
  /** One training step on a whole mini-batch. */
  step(batch: Batch, settings: StepSettings): Promise<StepOutcome>;
  /** Summed cross-entropy and correct count of a batch in test mode (branches scaled by p_l). */
  evaluate(batch: Batch, survivalProbs: readonly number[]): Promise<{ lossSum: number; correct: number }>;
  /** The network's tensors and the optimizer's momentum buffers. */
  state(): Promise<{ params: Map<string, NamedTensor>; momentum: Map<string, NamedTensor> }>;
  dispose(): Promise<void>;
}

/** Start and end of each of `parts` near-equal contiguous shares of `count` items. */
export function shards(count: number, parts: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let r = 0; r < parts; r++) out.push([Math.floor((r * count) / parts), Math.floor(((r + 1) * count) / parts)]);
  return out;
}
