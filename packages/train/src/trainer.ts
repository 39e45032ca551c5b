// The training loop: data, stochastic-depth steps, evaluation, checkpoints and metrics per epoch, resumable.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import {
  DATASET_LABELS,
  DepthfoldInputError,
  createRng,
  deriveSeed,
  expectedDepth,
  parseWith,
  residualBlocks,
  resnetSpec,
  survivalProbs,
  trainConfigSchema,
  withoutTimings,
  type CheckpointInfo,
  type EpochMetrics,
  type MetricsLine,
  type Normalization,
  type TrainConfig,
  type TrainConfigInput,
} from '@depthfold/core';
import {
  loadCheckpoint,
  readRecordedConfig,
  removeStaleRunTempFiles,
  runPaths,
  saveCheckpoint,
  writeFileAtomic,
  writeMetrics,
  type AtomicWriteOptions,
  type RunPaths,
} from '@depthfold/core/node';
import { selectBackend, type BackendChoice } from './backend.js';
import { channelStats, fillBatch, fillLabels, loadDataset, shuffledOrder, type Dataset } from './data/index.js';
import { evaluate } from './evaluate.js';
import { drawGates } from './gates.js';
import { learningRateAt, type LrSchedule } from './lr-schedule.js';
import { initialTensors } from './network.js';
import type { TrainEngine } from './parallel/engine.js';
import { LocalEngine } from './parallel/local-engine.js';
import { WorkerEngine } from './parallel/worker-engine.js';
import { resumedMetrics } from './resumed-metrics.js';
import { resumedConfig } from './resume.js';

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
  }): void;
  onStep?(progress: StepProgress): void;
  onEpoch?(metrics: EpochMetrics): void;
  /**
   * Called, and awaited, at every write boundary of the run directory, in order. The tests kill the process here to
   * check that a kill at any instant leaves a run that resumes to the uninterrupted result.
   */
  onWrite?(boundary: WriteBoundary): void | Promise<void>;
}

/** What a finished run leaves. */
export interface TrainResult {
  runDir: string;
  checkpointPath: string;
  metrics: MetricsLine[];
  backend: BackendChoice;
  config: TrainConfig;
}

/** The run directory of a config. */
export function runDirOf(config: TrainConfig): string {
  return config.runDir ?? join('runs', config.name);
}

/**
 * Worker threads for a run: as asked, or for 0 one per core on wasm (single-threaded in Node) and one elsewhere
 * (tfjs-node threads by itself; the cpu backend is the slow reference path).
 */
export function workerCount(requested: number, backend: BackendChoice): number {
  if (requested > 0) return requested;
  return backend.name === 'wasm' ? availableParallelism() : 1;
}

/**
 * The settings a checkpoint records: the config less where the run lives and how this session was started (`runDir`,
 * `resume`), in the schema's key order, so that equal training states give byte-identical checkpoints whichever
 * directory or session wrote them.
 */
function recordedSettings(config: TrainConfig): TrainConfig {
  return parseWith(trainConfigSchema, { ...config, runDir: undefined, resume: false }, 'train config');
}

/** Starts the engine a run trains on: in this thread for one worker, else a pool of worker threads. */
async function startEngine(
  init: Parameters<typeof WorkerEngine.start>[0],
  workers: number,
  backend: BackendChoice,
  threads: number,
): Promise<TrainEngine> {
  if (workers <= 1) return new LocalEngine(init);
  // Workers share the cores: each one's onednn gets its share unless --threads says otherwise.
  return WorkerEngine.start(
    init,
    workers,
    backend.option,
    threads > 0 ? threads : Math.max(1, Math.floor(availableParallelism() / workers)),
  );
}

/** A seeded random subset of `limit` of `indices` (all of them, in order, without a limit). */
function subsetOf(indices: Uint32Array, limit: number | undefined, seed: number): Uint32Array {
  if (limit === undefined || limit >= indices.length) return indices;
  const order = shuffledOrder(indices.length, createRng(deriveSeed(seed, 'subset')).next);
  return order
    .slice(0, limit)
    .map((i) => indices[i]!)
    .sort();
}

/**
 * The training split's indices for training and for validation: `validation` images held out by a seeded choice,
 * then a seeded subset of `trainLimit` of the rest.
 */
export function splitTrainingSet(count: number, validation: number, trainLimit: number | undefined, seed: number) {
  if (validation >= count)
    throw new Error(`train: validation ${validation} leaves none of the ${count} training images`);
  const all = Uint32Array.from({ length: count }, (_, i) => i);
  if (validation === 0) return { train: subsetOf(all, trainLimit, seed), validation: new Uint32Array(0) };
  const order = shuffledOrder(count, createRng(deriveSeed(seed, 'validation')).next);
  const held = order.slice(0, validation).sort();
  return { train: subsetOf(order.slice(validation).sort(), trainLimit, seed), validation: held };
}

/** Trains a network as configured, writing config, metrics and checkpoints to the run directory. */
export async function train(input: TrainConfigInput, hooks: TrainHooks = {}): Promise<TrainResult> {
  let config = parseWith(trainConfigSchema, input, 'train config');
  const runDir = runDirOf(config);
  const paths = runPaths(runDir);
  const hasCheckpoint = existsSync(paths.checkpoint);
  if (hasCheckpoint && !config.resume) {
    throw new Error(
      `train: ${paths.checkpoint} exists; pass --resume to continue that run, or choose another --name or --run-dir`,
    );
  }
  const resumed = hasCheckpoint ? await loadCheckpoint(paths.checkpoint) : undefined;
  const recorded = resumed?.info.config ?? (config.resume ? await readRecordedConfig(runDir) : undefined);
  if (recorded) config = resumedConfig(recorded, config, input, resumed?.info.epoch ?? 0);
  else if (config.resume) {
    // Most likely a mistyped --name: starting a default run under it would look like a resumed one.
    throw new DepthfoldInputError(
      'resume',
      `a run to continue, but ${runDir} has no checkpoint and no config.json (drop --resume to start it)`,
      true,
      'train',
    );
  }
  // A kill between a temp file's write and its rename leaves the temp file; they pile up unless the next session of
  // the run removes them (only the run's own, of writers that no longer run).
  await removeStaleRunTempFiles(runDir);
  const backend = await selectBackend(config.backend, config.threads > 0 ? { threads: config.threads } : {});
  const dataset = await loadDataset(config.dataset, config.data);
  const spec = resnetSpec({
    depth: config.depth,
    input: { height: dataset.height, width: dataset.width, channels: dataset.channels },
    numClasses: dataset.numClasses,
    shortcut: config.shortcut,
  });
  const probs = survivalProbs(config.survivalRule, residualBlocks(spec).length, config.survivalProb);
  const normalization = resumed?.info.normalization ?? channelStats(dataset.train);
  const { train: trainIdx, validation: validationIdx } = splitTrainingSet(
    dataset.train.count,
    config.validation,
    config.trainLimit,
    config.seed,
  );
  const testIdx = Uint32Array.from({ length: Math.min(config.testLimit ?? Infinity, dataset.test.count) }, (_, i) => i);
  if (trainIdx.length < config.batchSize) {
    throw new Error(`train: batchSize ${config.batchSize} is larger than the ${trainIdx.length} training images`);
  }

  const startEpoch = resumed?.info.epoch ?? 0;
  let step = resumed?.info.step ?? 0;
  const metrics = resumed ? await resumedMetrics(runDir, resumed.info, paths.checkpoint) : [];
  /** Writes one file of the run directory through `write`, reporting its two boundaries to `hooks.onWrite`. */
  const commit = async (
    file: WriteBoundary['file'],
    epoch: number,
    write: (options: AtomicWriteOptions) => Promise<void>,
  ) => {
    await write({ onTempWritten: () => hooks.onWrite?.({ file, stage: 'temp-written', epoch }) });
    await hooks.onWrite?.({ file, stage: 'renamed', epoch });
  };
  await commit('config', startEpoch, (options) =>
    writeFileAtomic(paths.config, `${JSON.stringify(config, null, 2)}\n`, options),
  );
  // Resuming rewrites the metrics to match the checkpoint at once: a line the kill lost is back, later ones are gone.
  if (resumed || existsSync(paths.metrics))
    await commit('metrics', startEpoch, (options) => writeMetrics(runDir, metrics, options));
  const workers = workerCount(config.workers, backend);
  const engine = await startEngine(
    {
      spec,
      params: resumed?.params ?? initialTensors(spec, createRng(deriveSeed(config.seed, 'init'))),
      momentum: resumed?.momentum ?? new Map(),
    },
    workers,
    backend,
    config.threads,
  );
  const schedule = {
    kind: config.lrSchedule,
    peak: config.learningRate,
    warmupEpochs: config.warmupEpochs,
    epochs: config.epochs,
  };
  try {
    hooks.onStart?.({ backend, workers, runDir, resumedFromEpoch: startEpoch, config });
    for (let epoch = startEpoch; epoch < config.epochs; epoch++) {
      const run = await trainEpoch({ engine, config, dataset, trainIdx, normalization, probs, schedule, hooks }, epoch);
      step += run.steps;
      const test = await evaluate(engine, dataset.test, testIdx, probs, normalization, config.evalBatchSize);
      const validation = validationIdx.length
        ? await evaluate(engine, dataset.train, validationIdx, probs, normalization, config.evalBatchSize)
        : undefined;
      const line: EpochMetrics = {
        epoch: epoch + 1,
        step,
        learningRate: run.learningRate,
        trainLoss: run.lossSum / run.steps,
        trainError: 1 - run.correct / (run.steps * config.batchSize),
        testLoss: test.loss,
        testError: test.error,
        testExamples: test.examples,
        ...(validation ? { validationLoss: validation.loss, validationError: validation.error } : {}),
        seconds: run.seconds,
        imagesPerSecond: (run.steps * config.batchSize) / run.seconds,
        expectedDepth: expectedDepth(probs),
        realisedDepth: run.blocksRun / run.steps,
        gradMagnitude: run.gradMagnitude,
        backend: backend.name,
        workers,
      };
      metrics.push(line);
      const info: CheckpointInfo = {
        formatVersion: 1,
        config: recordedSettings(config),
        architecture: { ...spec, widths: [...spec.widths], strides: [...spec.strides] },
        schedule: { rule: config.survivalRule, survivalProb: config.survivalProb, survivalProbs: probs },
        normalization,
        labels: [...DATASET_LABELS[config.dataset]],
        dataset: { name: config.dataset, trainExamples: trainIdx.length },
        epoch: epoch + 1,
        step,
        metrics: {
          epochs: epoch + 1,
          steps: step,
          trainLoss: line.trainLoss,
          trainError: line.trainError,
          testLoss: line.testLoss,
          testError: line.testError,
          testExamples: line.testExamples,
          validationLoss: line.validationLoss,
          validationError: line.validationError,
          backend: backend.name,
        },
        epochMetrics: withoutTimings(line),
      };
      // The checkpoint's rename commits the epoch; the metrics file follows, and a kill in between leaves a line that
      // resume rewrites from the checkpoint's copy (wall-clock timings stay out of the checkpoint: see recordedSettings).
      const state = await engine.state();
      await commit('checkpoint', epoch + 1, (options) => saveCheckpoint(paths.checkpoint, { info, ...state }, options));
      await commit('metrics', epoch + 1, (options) => writeMetrics(runDir, metrics, options));
      hooks.onEpoch?.(line);
    }
  } finally {
    await engine.dispose();
  }
  return { runDir, checkpointPath: paths.checkpoint, metrics, backend, config };
}

/** What one epoch needs. */
interface EpochContext {
  engine: TrainEngine;
  config: TrainConfig;
  dataset: Dataset;
  trainIdx: Uint32Array;
  normalization: Normalization;
  probs: number[];
  schedule: LrSchedule;
  hooks: TrainHooks;
}

/** The training steps of one epoch (drop-last batches), with their summed loss, hits and blocks run. */
async function trainEpoch(ctx: EpochContext, epoch: number) {
  const { engine, config, dataset, trainIdx, normalization, probs, schedule, hooks } = ctx;
  const steps = Math.floor(trainIdx.length / config.batchSize);
  const pixels = new Float32Array(config.batchSize * dataset.height * dataset.width * dataset.channels);
  const labels = new Int32Array(config.batchSize);
  // Every random stream is derived from (seed, epoch), so a run resumed at an epoch boundary replays exactly.
  const order = shuffledOrder(trainIdx.length, createRng(deriveSeed(config.seed, `shuffle/${epoch}`)).next);
  const augmentRng = createRng(deriveSeed(config.seed, `augment/${epoch}`));
  // Its own stream, so that the crops and flips of a seed do not depend on the erasing probability.
  const erasingRng = createRng(deriveSeed(config.seed, `random-erasing/${epoch}`));
  const gateRng = createRng(deriveSeed(config.seed, `gates/${epoch}`));
  let lossSum = 0;
  let correct = 0;
  let blocksRun = 0;
  let learningRate = 0;
  const magnitudes = new Map<string, { sum: number; count: number }>();
  const start = performance.now();
  for (let s = 0; s < steps; s++) {
    const batch = Array.from(order.subarray(s * config.batchSize, (s + 1) * config.batchSize), (i) => trainIdx[i]!);
    const erasing = { probability: config.randomErasing, rng: erasingRng.next };
    fillBatch(dataset.train, batch, pixels, {
      ...normalization,
      augment: { padCrop: config.padCrop, flip: config.flip, rng: augmentRng.next, erasing },
    });
    fillLabels(dataset.train, batch, labels);
    const gates = drawGates(probs, gateRng);
    blocksRun += gates.filter(Boolean).length;
    learningRate = learningRateAt(schedule, epoch + s / steps);
    const outcome = await engine.step(
      { pixels, labels, count: config.batchSize },
      { gates, learningRate, momentum: config.momentum, weightDecay: config.weightDecay },
    );
    if (!Number.isFinite(outcome.loss)) {
      throw new Error(
        `train: the loss became ${outcome.loss} at epoch ${epoch + 1}, step ${s + 1}; lower --learning-rate`,
      );
    }
    lossSum += outcome.loss;
    correct += outcome.correct;
    for (const [name, value] of Object.entries(outcome.gradMagnitudes)) {
      const part = magnitudes.get(name.split('.')[0]!) ?? { sum: 0, count: 0 };
      part.sum += value;
      part.count++;
      magnitudes.set(name.split('.')[0]!, part);
    }
    const elapsed = (performance.now() - start) / 1000;
    hooks.onStep?.({
      epoch,
      step: s + 1,
      stepsPerEpoch: steps,
      loss: outcome.loss,
      imagesPerSecond: ((s + 1) * config.batchSize) / elapsed,
    });
  }
  const gradMagnitude = Object.fromEntries([...magnitudes].map(([part, m]) => [part, m.sum / m.count]));
  return {
    steps,
    lossSum,
    correct,
    blocksRun,
    learningRate,
    gradMagnitude,
    seconds: (performance.now() - start) / 1000,
  };
}
