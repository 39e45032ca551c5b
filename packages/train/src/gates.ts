// The Bernoulli gates of stochastic depth: b_l ~ Bernoulli(p_l), drawn once per block per mini-batch.
import type { Rng } from '@depthfold/core';

/** One gate per block: true when block l survives this mini-batch. */
export function drawGates(survivalProbs: readonly number[], rng: Rng): boolean[] {
  return survivalProbs.map((p) => rng.next() < p);
}
