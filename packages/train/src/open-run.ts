// The resume policy: which run a session trains, under which settings, and from which checkpoint.
import { existsSync } from 'node:fs';
import {
  DepthfoldInputError,
  parseWith,
  trainConfigSchema,
  type Checkpoint,
  type TrainConfig,
  type TrainConfigInput,
} from '@depthfold/core';
import { defaultRunDir, loadCheckpoint, readRecordedConfig, runPaths, type RunPaths } from '@depthfold/core/node';
import { resumedConfig } from './resume.js';

/** A run as a session opens it: the config it trains with, where it lives, and the checkpoint it continues from. */
export interface OpenedRun {
  config: TrainConfig;
  runDir: string;
  paths: RunPaths;
  /** The run's checkpoint when it resumes after at least one epoch; undefined for a new run. */
  resumed: Checkpoint | undefined;
}

/** The run directory of a config. */
export function runDirOf(config: TrainConfig): string {
  return config.runDir ?? defaultRunDir(config.name);
}

/**
 * Parses `input` and applies the resume policy. A run directory with a checkpoint is continued only under `resume`
 * (never overwritten); a resumed run keeps its recorded settings (from its checkpoint, or from its config.json when a
 * kill came before the first checkpoint), less those {@link resumedConfig} lets a session change. `resume` with no
 * run to continue throws a {@link DepthfoldInputError} on `resume`.
 */
export async function openRun(input: TrainConfigInput): Promise<OpenedRun> {
  const requested = parseWith(trainConfigSchema, input, 'train config');
  const runDir = runDirOf(requested);
  const paths = runPaths(runDir);
  const hasCheckpoint = existsSync(paths.checkpoint);
  if (hasCheckpoint && !requested.resume) {
    throw new Error(
      `train: ${paths.checkpoint} exists; pass --resume to continue that run, or choose another --name or --run-dir`,
    );
  }
  const resumed = hasCheckpoint ? await loadCheckpoint(paths.checkpoint) : undefined;
  const recorded = resumed?.info.config ?? (requested.resume ? await readRecordedConfig(runDir) : undefined);
  if (recorded) {
    return { config: resumedConfig(recorded, requested, input, resumed?.info.epoch ?? 0), runDir, paths, resumed };
  }
  if (requested.resume) {
    // Most likely a mistyped --name: starting a default run under it would look like a resumed one.
    throw new DepthfoldInputError(
      'resume',
      `a run to continue, but ${runDir} has no checkpoint and no config.json (drop --resume to start it)`,
      true,
      'train',
    );
  }
  return { config: requested, runDir, paths, resumed };
}
