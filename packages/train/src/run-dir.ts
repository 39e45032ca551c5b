// A run directory: the resolved config, one JSON line of metrics per epoch, and the latest checkpoint, which commits
// an epoch (the metrics file is written after it and can be rebuilt from it).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DepthfoldInputError, parseWith, trainConfigSchema, type CheckpointInfo, type TrainConfig } from '@depthfold/core';
import { removeStaleTempFiles, writeFileAtomic, type AtomicWriteOptions } from '@depthfold/core/node';

/** The metrics of one epoch, as written to `metrics.jsonl`. */
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
}

/** The fields of an epoch's metrics that measure the wall clock rather than the training state. */
export const TIMING_FIELDS = ['seconds', 'imagesPerSecond'] as const;

/**
 * An epoch's metrics less its timings: what its checkpoint carries (equal training states give equal checkpoint
 * bytes only without the wall clock).
 */
export type EpochOutcome = Omit<EpochMetrics, (typeof TIMING_FIELDS)[number]>;

/**
 * A line of `metrics.jsonl` as read back: the timings are absent from a line that resume rewrote from the checkpoint,
 * since the process that measured them was killed before it wrote them.
 */
export type MetricsLine = EpochOutcome & Partial<Pick<EpochMetrics, (typeof TIMING_FIELDS)[number]>>;

/** `line` less its {@link TIMING_FIELDS}: the part of an epoch's metrics that equal training states share. */
export function withoutTimings(line: MetricsLine): EpochOutcome {
  const outcome: Record<string, unknown> = { ...line };
  for (const field of TIMING_FIELDS) delete outcome[field];
  return outcome as EpochOutcome;
}

/** The files of a run directory, by role. */
export const RUN_FILES = { config: 'config.json', metrics: 'metrics.jsonl', checkpoint: 'checkpoint.safetensors' } as const;

/** Paths inside a run directory. */
export function runPaths(runDir: string) {
  return {
    config: join(runDir, RUN_FILES.config),
    metrics: join(runDir, RUN_FILES.metrics),
    checkpoint: join(runDir, RUN_FILES.checkpoint),
  };
}

/**
 * Removes the temp files that a killed run left beside the run directory's own files (`checkpoint.safetensors.tmp-<pid>-<random>`
 * and the like, whose writer no longer runs), and nothing else. Returns the paths removed.
 */
export async function removeStaleRunTempFiles(runDir: string): Promise<string[]> {
  return removeStaleTempFiles(runDir, Object.values(RUN_FILES));
}

/**
 * The settings a run recorded when it started, or undefined if it has none. A run stopped before its first
 * checkpoint has only these, and resuming it must not fall back to the defaults.
 */
export async function readRecordedConfig(runDir: string): Promise<TrainConfig | undefined> {
  const path = runPaths(runDir).config;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`train: ${path} is not valid JSON; delete it to start the run again from the given flags`);
  }
  return parseWith(trainConfigSchema, value, path);
}

/** The metrics lines of a run, up to and including `lastEpoch` (later lines belong to an interrupted epoch). */
export async function readMetrics(runDir: string, lastEpoch = Infinity): Promise<MetricsLine[]> {
  let text: string;
  try {
    text = await readFile(runPaths(runDir).metrics, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as MetricsLine)
    .filter((m) => m.epoch <= lastEpoch);
}

/**
 * The metrics of a run resumed from a checkpoint: the lines of `metrics.jsonl` up to the checkpoint's epoch, and, if
 * the line of that epoch is missing (a kill came between the checkpoint's rename, which commits an epoch, and the
 * metrics file's), the line the checkpoint carries, without timings.
 *
 * @param checkpointPath - for the error message.
 * @throws {@link DepthfoldInputError} if the checkpoint's line is of another epoch than the checkpoint.
 */
export async function resumedMetrics(runDir: string, info: CheckpointInfo, checkpointPath: string): Promise<MetricsLine[]> {
  const lines = await readMetrics(runDir, info.epoch);
  const carried = info.epochMetrics;
  if (info.epoch === 0 || lines.at(-1)?.epoch === info.epoch || carried === undefined) return lines;
  if (carried.epoch !== info.epoch) {
    throw new DepthfoldInputError(`${checkpointPath} epochMetrics.epoch`, `the checkpoint's epoch, ${info.epoch}`, carried.epoch, 'train');
  }
  return [...lines, carried as unknown as MetricsLine];
}

/** Rewrites the metrics file with `lines` (atomically, so it always matches a checkpoint). */
export async function writeMetrics(runDir: string, lines: readonly MetricsLine[], options: AtomicWriteOptions = {}): Promise<void> {
  await writeFileAtomic(runPaths(runDir).metrics, lines.map((m) => JSON.stringify(m)).join('\n') + '\n', options);
}
