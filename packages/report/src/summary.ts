// The figures of a run that the report's tables show: final and best test error, training time, throughput.
import type { MetricsLine } from '@depthfold/core';
import type { RunData } from './run-data.js';

/** One row of the runs table. */
export interface RunSummary {
  label: string;
  dir: string;
  depth: number | undefined;
  rule: string | undefined;
  survivalProb: number | undefined;
  /** Epochs the config asked for, and epochs in metrics.jsonl. */
  epochsPlanned: number | undefined;
  epochsDone: number;
  /** Test error of the last epoch, and that epoch. */
  finalTestError: number | undefined;
  finalEpoch: number;
  /** Lowest test error of any epoch, and the first epoch that reached it. */
  bestTestError: number | undefined;
  bestEpoch: number | undefined;
  /**
   * Model choice by validation: the epoch with the lowest validation error (the first, on a tie), its validation
   * error, and its test error, the figure to quote for a model chosen without looking at the test set.
   */
  chosenEpoch: number | undefined;
  chosenValidationError: number | undefined;
  chosenTestError: number | undefined;
  /** Sum of the epochs' training time (evaluation excluded, as the trainer measures it). */
  totalSeconds: number | undefined;
  /** Median images/s over the epochs: robust to a first epoch slowed by compilation or a busy machine. */
  medianImagesPerSecond: number | undefined;
  /** Mean over epochs of the expected (E[L'] = sum of p_l) and realised residual blocks per step. */
  expectedDepth: number | undefined;
  realisedDepth: number | undefined;
  /** Backends and worker counts the epochs ran on (a resumed run may have changed them). */
  backends: string[];
}

/** The median of `values`, or undefined for none. */
export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function mean(values: readonly number[]): number | undefined {
  return values.length ? values.reduce((s, v) => s + v, 0) / values.length : undefined;
}

/** The values of one numeric field over the epochs, skipping epochs that lack it. */
export function series(metrics: readonly MetricsLine[], field: NumericField): number[] {
  return metrics.map((m) => m[field]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
}

/** The numeric fields of a metrics line. */
export type NumericField = {
  [K in keyof MetricsLine]-?: NonNullable<MetricsLine[K]> extends number ? K : never;
}[keyof MetricsLine];

/** The first epoch with the lowest `field`, or undefined when no epoch has it. */
function lowestEpoch(metrics: readonly MetricsLine[], field: 'testError' | 'validationError'): MetricsLine | undefined {
  let lowest: MetricsLine | undefined;
  for (const m of metrics) {
    const value = m[field];
    if (typeof value === 'number' && (lowest === undefined || value < lowest[field]!)) lowest = m;
  }
  return lowest;
}

/** The table row of a run. */
export function summarise(run: RunData): RunSummary {
  const { metrics, config } = run;
  const last = metrics[metrics.length - 1]!;
  const best = lowestEpoch(metrics, 'testError');
  const chosen = lowestEpoch(metrics, 'validationError');
  const seconds = series(metrics, 'seconds');
  const backends = [
    ...new Set(
      metrics
        .map((m) => (m.backend ? `${m.backend}${typeof m.workers === 'number' ? ` x${m.workers}` : ''}` : undefined))
        .filter((b) => b !== undefined),
    ),
  ];
  return {
    label: run.label,
    dir: run.dir,
    depth: config.depth,
    rule: config.survivalRule,
    survivalProb: config.survivalProb,
    epochsPlanned: config.epochs,
    epochsDone: metrics.length,
    finalTestError: last.testError ?? undefined,
    finalEpoch: last.epoch,
    bestTestError: best?.testError ?? undefined,
    bestEpoch: best?.epoch,
    chosenEpoch: chosen?.epoch,
    chosenValidationError: chosen?.validationError ?? undefined,
    chosenTestError: chosen?.testError ?? undefined,
    totalSeconds: seconds.length ? seconds.reduce((s, v) => s + v, 0) : undefined,
    medianImagesPerSecond: median(series(metrics, 'imagesPerSecond')),
    expectedDepth: mean(series(metrics, 'expectedDepth')),
    realisedDepth: mean(series(metrics, 'realisedDepth')),
    backends,
  };
}

/**
 * What a reader should know before trusting a run's figures: unfinished runs, missing fields, epochs that were
 * skipped in metrics.jsonl.
 */
export function runNotes(run: RunData): string[] {
  const notes: string[] = [];
  const { metrics, config } = run;
  if (config.epochs !== undefined && metrics.length < config.epochs) {
    notes.push(`unfinished: ${metrics.length} of ${config.epochs} epochs`);
  }
  const gaps = metrics.filter((m, i) => m.epoch !== i + 1).length;
  if (gaps) notes.push(`metrics.jsonl lacks some epochs (it has ${metrics.map((m) => m.epoch).join(', ')})`);
  const missing = (
    ['trainLoss', 'testError', 'seconds', 'imagesPerSecond', 'expectedDepth', 'realisedDepth'] as const
  ).filter((field) => series(metrics, field).length < metrics.length);
  if (missing.length) notes.push(`some epochs lack ${missing.join(', ')}`);
  if (!metrics.some((m) => m.gradMagnitude && Object.keys(m.gradMagnitude).length)) {
    notes.push('no gradient magnitudes (written by a trainer that did not record them)');
  }
  return notes;
}
