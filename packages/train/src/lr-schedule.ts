// Learning rate as a function of training progress.

/** Options of {@link learningRateAt}. */
export interface LrSchedule {
  kind: 'cosine' | 'step';
  peak: number;
  warmupEpochs: number;
  epochs: number;
}

/**
 * The learning rate at fractional epoch `t`: a linear warm-up, then cosine annealing to 0, or a step schedule
 * dividing by 10 at 50% and 75% of training (the paper divides at 250 and 375 of 500 epochs).
 */
export function learningRateAt(schedule: LrSchedule, t: number): number {
  const { kind, peak, warmupEpochs, epochs } = schedule;
  if (warmupEpochs > 0 && t < warmupEpochs) return (peak * (t + 1e-3)) / warmupEpochs;
  if (kind === 'step') return peak * (t >= 0.75 * epochs ? 0.01 : t >= 0.5 * epochs ? 0.1 : 1);
  const progress = Math.min(1, (t - warmupEpochs) / Math.max(1e-9, epochs - warmupEpochs));
  return 0.5 * peak * (1 + Math.cos(Math.PI * progress));
}
