// The epochs of a run: train, evaluate, then commit the epoch (checkpoint first, metrics after) before the next.
import {
  type Architecture,
  expectedDepth,
  type EpochMetrics,
  type EpochPlan,
  type MetricsLine,
  type Normalization,
  type TrainConfig,
} from '@depthfold/core';
import { saveCheckpoint, writeMetrics, type RunPaths } from '@depthfold/core/node';
import type { BackendChoice } from './backend.js';
import { checkpointInfo } from './checkpoint-record.js';
import type { RunData } from './data/run-data.js';
import { evaluate, type Evaluation } from './evaluate.js';
import type { LrSchedule } from './lr-schedule.js';
import type { TrainEngine } from './parallel/engine.js';
import { commitWrite, type TrainHooks } from './train-hooks.js';
import { trainEpoch, type EpochRun } from './train-epoch.js';

/** What a run trains with: its engine, data and model settings, where it writes, and where it starts. */
export interface RunContext {
  engine: TrainEngine;
  config: TrainConfig;
  /** The splits, labels and preprocessing (recorded where it is not `exact`). */
  data: RunData;
  /** The network's architecture record, as checkpoints store it. */
  architecture: Architecture;
  probs: number[];
  normalization: Normalization;
  backend: BackendChoice;
  workers: number;
  runDir: string;
  paths: RunPaths;
  hooks: TrainHooks;
  /** Epochs already done (0 for a new run). */
  startEpoch: number;
  /** Steps already done. */
  startStep: number;
  /** The epoch count each part of the run trains towards, this session's last; recorded in every checkpoint. */
  epochPlan: EpochPlan;
  /** The run's metrics lines so far; each epoch's line is appended. */
  metrics: MetricsLine[];
}

/** The metrics line of the 0-based `epoch`, after `step` steps in all. */
function epochMetrics(
  ctx: RunContext,
  epoch: number,
  step: number,
  run: EpochRun,
  test: Evaluation,
  validation: Evaluation | undefined,
): EpochMetrics {
  const { batchSize } = ctx.config;
  return {
    epoch: epoch + 1,
    step,
    learningRate: run.learningRate,
    trainLoss: run.lossSum / run.steps,
    trainError: 1 - run.correct / (run.steps * batchSize),
    testLoss: test.loss,
    testError: test.error,
    testExamples: test.examples,
    ...(validation ? { validationLoss: validation.loss, validationError: validation.error } : {}),
    seconds: run.seconds,
    imagesPerSecond: (run.steps * batchSize) / run.seconds,
    dataWaitShare: run.dataSeconds / run.seconds,
    expectedDepth: expectedDepth(ctx.probs),
    realisedDepth: run.blocksRun / run.steps,
    gradMagnitude: run.gradMagnitude,
    backend: ctx.backend.name,
    workers: ctx.workers,
    precision: ctx.backend.precision,
  };
}

/** Trains `ctx`'s run from its start epoch to `config.epochs`, committing each epoch to the run directory. */
export async function runEpochs(ctx: RunContext): Promise<void> {
  const { engine, config, data, probs, normalization, paths, hooks, metrics } = ctx;
  const schedule: LrSchedule = {
    kind: config.lrSchedule,
    peak: config.learningRate,
    warmupEpochs: config.warmupEpochs,
    epochs: config.epochs,
  };
  let step = ctx.startStep;
  for (let epoch = ctx.startEpoch; epoch < config.epochs; epoch++) {
    const run = await trainEpoch({ engine, config, data, normalization, probs, schedule, hooks }, epoch);
    step += run.steps;
    const test = await evaluate(engine, data.test, probs, normalization, config.evalBatchSize);
    const validation = data.validation
      ? await evaluate(engine, data.validation, probs, normalization, config.evalBatchSize)
      : undefined;
    const line = epochMetrics(ctx, epoch, step, run, test, validation);
    metrics.push(line);
    const info = checkpointInfo({
      config,
      architecture: ctx.architecture,
      preprocessing: data.preprocessing,
      labels: data.labels,
      probs,
      normalization,
      dataset: {
        name: data.name,
        trainExamples: data.train.indices.length,
        ...(data.validation ? { validationExamples: data.validation.indices.length } : {}),
      },
      line,
      backend: ctx.backend.name,
      precision: ctx.backend.precision,
      epochPlan: ctx.epochPlan,
    });
    // The checkpoint's rename commits the epoch; the metrics file follows, and a kill in between leaves a line that
    // resume rewrites from the checkpoint's copy (wall-clock timings stay out of the checkpoint: see checkpointInfo).
    const state = await engine.state();
    await commitWrite(hooks, 'checkpoint', epoch + 1, (options) =>
      saveCheckpoint(paths.checkpoint, { info, ...state }, options),
    );
    await commitWrite(hooks, 'metrics', epoch + 1, (options) => writeMetrics(ctx.runDir, metrics, options));
    hooks.onEpoch?.(line);
  }
}
