// A run directory: the resolved config, one JSON line of metrics per epoch, and the latest checkpoint.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseWith, trainConfigSchema, type TrainConfig } from '@depthfold/core';
import { writeFileAtomic } from '@depthfold/core/node';

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

/** Paths inside a run directory. */
export function runPaths(runDir: string) {
  return {
    config: join(runDir, 'config.json'),
    metrics: join(runDir, 'metrics.jsonl'),
    checkpoint: join(runDir, 'checkpoint.safetensors'),
  };
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
export async function readMetrics(runDir: string, lastEpoch = Infinity): Promise<EpochMetrics[]> {
  let text: string;
  try {
    text = await readFile(runPaths(runDir).metrics, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as EpochMetrics)
    .filter((m) => m.epoch <= lastEpoch);
}

/** Rewrites the metrics file with `lines` (atomically, so it always matches a checkpoint). */
export async function writeMetrics(runDir: string, lines: readonly EpochMetrics[]): Promise<void> {
  await writeFileAtomic(runPaths(runDir).metrics, lines.map((m) => JSON.stringify(m)).join('\n') + '\n');
}
