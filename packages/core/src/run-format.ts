// The run directory's format, without file I/O (that is `@depthfold/core/node`'s run-dir): its files by role, and
// the line of `metrics.jsonl` as one zod schema, which the trainer's writer and every reader (resume, report, sweep,
// card) share.
import { z } from 'zod';
import { parseWith } from './errors.js';

/** The files of a run directory, by role. */
export const RUN_FILES = Object.freeze({
  config: 'config.json',
  metrics: 'metrics.jsonl',
  checkpoint: 'checkpoint.safetensors',
  /** A folder run's file list (the DatasetDescription of @depthfold/images): what it trains, validates and tests on. */
  dataset: 'dataset.json',
  /** A folder run's images skipped by --skip-bad-images, one `<path>: <reason>` line each. */
  skippedImages: 'skipped-images.txt',
} as const);

// Every field but the epoch is optional: runs written before a field existed (gradMagnitude, workers) still read, a
// line rewritten from a checkpoint has no timings, and JSON writes a non-finite number (a diverged loss) as null.
const measured = z.number().nullable().optional();

/**
 * One line of `metrics.jsonl`. Keys are in the order the trainer writes them, so a line read and written back keeps
 * its bytes.
 */
export const metricsLineSchema = z.object({
  epoch: z.number().int().positive(),
  step: measured,
  learningRate: measured,
  trainLoss: measured,
  trainError: measured,
  testLoss: measured,
  testError: measured,
  testExamples: measured,
  validationLoss: measured,
  validationError: measured,
  seconds: measured,
  imagesPerSecond: measured,
  dataWaitShare: measured,
  expectedDepth: measured,
  realisedDepth: measured,
  gradMagnitude: z.record(z.string(), z.number().nullable()).optional(),
  backend: z.string().optional(),
  workers: measured,
  /** The precision the epoch's convs and matmuls ran in (fp32 where absent). */
  precision: z.string().optional(),
});

/** A line of `metrics.jsonl` as read back: every field but `epoch` may be missing (see {@link metricsLineSchema}). */
export type MetricsLine = z.output<typeof metricsLineSchema>;

/** The metrics of one epoch as the trainer measures and writes them now: every field present. */
export interface EpochMetrics {
  epoch: number;
  step: number;
  learningRate: number;
  trainLoss: number;
  trainError: number;
  testLoss: number;
  testError: number;
  testExamples: number;
  /** Loss and error on the held-out validation images (with `--validation N`), for choosing a model. */
  validationLoss?: number;
  validationError?: number;
  /** Wall time of the epoch's training steps (evaluation excluded). */
  seconds: number;
  imagesPerSecond: number;
  /**
   * The share of the training steps' wall time spent getting their batch ready: waiting for the loader (a read of the
   * decode cache when streaming) and assembling it (crops, flips, normalisation), before the engine's step.
   */
  dataWaitShare: number;
  /** E[L'] = sum of p_l, and the mean number of blocks that actually ran per step. */
  expectedDepth: number;
  realisedDepth: number;
  /**
   * Mean |dL/dW| per part of the network (`stem`, `stage1`..`stage3`) over the epoch's steps: the stem conv and the
   * first conv of each block that ran (the paper's vanishing-gradient measure, Fig. 7).
   */
  gradMagnitude: Record<string, number>;
  backend: string;
  /** Data-parallel worker threads. */
  workers: number;
  /** The precision the convs and matmuls ran in: `fp32` or `bf16`. */
  precision: string;
}

// Compile-time guard: what the trainer writes is a line the schema reads (a renamed or retyped field fails the build).
const writtenLinesAreReadable: (line: EpochMetrics) => MetricsLine = (line) => line;
void writtenLinesAreReadable;

/** The fields of an epoch's metrics that measure the wall clock rather than the training state. */
export const TIMING_FIELDS = ['seconds', 'imagesPerSecond', 'dataWaitShare'] as const;

/** A name in {@link TIMING_FIELDS}. */
export type TimingField = (typeof TIMING_FIELDS)[number];

/**
 * An epoch's metrics less its timings: what its checkpoint carries (equal training states give equal checkpoint
 * bytes only without the wall clock).
 */
export type EpochOutcome = Omit<EpochMetrics, TimingField>;

/** `line` less its {@link TIMING_FIELDS}: the part of an epoch's metrics that equal training states share. */
export function withoutTimings<T extends MetricsLine>(line: T): Omit<T, TimingField> {
  const outcome: Record<string, unknown> = { ...line };
  for (const field of TIMING_FIELDS) delete outcome[field];
  return outcome as Omit<T, TimingField>;
}

/**
 * Parses `metrics.jsonl` text, each line against {@link metricsLineSchema}; a later line for the same epoch replaces
 * an earlier one, and the result is in epoch order.
 *
 * @param source - names the file in errors (`runs/a/metrics.jsonl line 3 ...`).
 * @throws {@link DepthfoldInputError} for a line that is not a metrics line; `Error` for one that is not JSON.
 */
export function parseMetrics(text: string, source: string): MetricsLine[] {
  const byEpoch = new Map<number, MetricsLine>();
  text.split('\n').forEach((line, index) => {
    if (!line.trim()) return;
    let value: unknown;
    try {
      value = JSON.parse(line) as unknown;
    } catch (error) {
      throw new Error(`${source} line ${index + 1} is not valid JSON (${(error as Error).message})`);
    }
    const entry = parseWith(metricsLineSchema, value, `${source} line ${index + 1}`);
    byEpoch.set(entry.epoch, entry);
  });
  return [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
}

/** The text of `metrics.jsonl` holding `lines`, one JSON object a line (a non-finite number is written as null). */
export function formatMetrics(lines: readonly MetricsLine[]): string {
  return `${lines.map((line) => JSON.stringify(line)).join('\n')}\n`;
}
