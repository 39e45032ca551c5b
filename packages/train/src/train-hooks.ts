// What a caller of train() sees of a run while it goes: progress, epochs, and every write boundary of its directory.
import type { EpochMetrics, Topology, TrainConfig } from '@depthfold/core';
import type { AtomicWriteOptions, RunPaths } from '@depthfold/core/node';
import type { DecodeProgress } from '@depthfold/images/node';
import type { BackendChoice } from './backend.js';
import type { DecodePassReport } from './data/folder-data.js';

/** Progress of one step, for progress bars. */
export interface StepProgress {
  epoch: number;
  step: number;
  stepsPerEpoch: number;
  loss: number;
  imagesPerSecond: number;
}

/**
 * A write boundary of a run directory: a file's temp copy is complete (`temp-written`) or has been renamed over it
 * (`renamed`). `epoch` counts the epochs the write records (0 before the first checkpoint).
 */
export interface WriteBoundary {
  file: keyof RunPaths;
  stage: 'temp-written' | 'renamed';
  epoch: number;
}

/** Callbacks of {@link train}; all optional. */
export interface TrainHooks {
  onStart?(info: {
    backend: BackendChoice;
    workers: number;
    runDir: string;
    resumedFromEpoch: number;
    config: TrainConfig;
    /** The network being trained, at its input size. */
    topology: Topology;
  }): void;
  /** Progress of a folder run's first pass, which decodes the images not yet in the cache (before the first epoch). */
  onDecode?(progress: DecodeProgress): void;
  /** A folder run's first pass is done: what it decoded, found in the cache and skipped, and how splits are read. */
  onData?(report: DecodePassReport): void;
  onStep?(progress: StepProgress): void;
  onEpoch?(metrics: EpochMetrics): void;
  /**
   * Called, and awaited, at every write boundary of the run directory, in order. The tests kill the process here to
   * check that a kill at any instant leaves a run that resumes to the uninterrupted result.
   */
  onWrite?(boundary: WriteBoundary): void | Promise<void>;
}

/** Writes one file of the run directory through `write`, reporting its two boundaries to `hooks.onWrite`. */
export async function commitWrite(
  hooks: TrainHooks,
  file: WriteBoundary['file'],
  epoch: number,
  write: (options: AtomicWriteOptions) => Promise<void>,
): Promise<void> {
  await write({ onTempWritten: () => hooks.onWrite?.({ file, stage: 'temp-written', epoch }) });
  await hooks.onWrite?.({ file, stage: 'renamed', epoch });
}
