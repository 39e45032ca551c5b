// A run directory on disk: the resolved config, one JSON line of metrics per epoch and the latest checkpoint, which
// commits an epoch (the metrics file is written after it and can be rebuilt from it). The format is ../run-format.ts.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { trainConfigSchema, type TrainConfig } from '../config.js';
import { parseWith } from '../errors.js';
import { RUN_FILES, formatMetrics, parseMetrics, type MetricsLine } from '../run-format.js';
import { removeStaleTempFiles, writeFileAtomic, type AtomicWriteOptions } from './files.js';

/** The paths of a run directory's files. */
export interface RunPaths {
  config: string;
  metrics: string;
  checkpoint: string;
  /** A folder run's file list. */
  dataset: string;
  /** A folder run's skipped images (with --skip-bad-images). */
  skippedImages: string;
}

/** Where a run named `name` lives unless its config says otherwise (`runDir`): `runs/<name>`. */
export function defaultRunDir(name: string): string {
  return join('runs', name);
}

/** Paths inside a run directory. */
export function runPaths(runDir: string): RunPaths {
  return {
    config: join(runDir, RUN_FILES.config),
    metrics: join(runDir, RUN_FILES.metrics),
    checkpoint: join(runDir, RUN_FILES.checkpoint),
    dataset: join(runDir, RUN_FILES.dataset),
    skippedImages: join(runDir, RUN_FILES.skippedImages),
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
 * The settings a run recorded when it started (`config.json`, against the train config schema), or undefined if it
 * has none. A run stopped before its first checkpoint has only these, and resuming it must not fall back to the
 * defaults.
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

/**
 * The metrics lines of a run (see `parseMetrics`), up to and including `lastEpoch` (later lines belong to an
 * interrupted epoch); none if the run has no `metrics.jsonl` yet.
 */
export async function readMetrics(runDir: string, lastEpoch = Infinity): Promise<MetricsLine[]> {
  const path = runPaths(runDir).metrics;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return parseMetrics(text, path).filter((line) => line.epoch <= lastEpoch);
}

/** Rewrites the metrics file with `lines` (atomically, so it always matches a checkpoint). */
export async function writeMetrics(
  runDir: string,
  lines: readonly MetricsLine[],
  options: AtomicWriteOptions = {},
): Promise<void> {
  await writeFileAtomic(runPaths(runDir).metrics, formatMetrics(lines), options);
}
