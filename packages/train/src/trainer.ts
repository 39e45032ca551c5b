// The training loop: data, stochastic-depth steps, evaluation, checkpoints and metrics per epoch, resumable.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  DATASET_LABELS,
  createRng,
  deriveSeed,
  expectedDepth,
  parseWith,
  residualBlocks,
  resnetSpec,
  survivalProbs,
  trainConfigSchema,
  type CheckpointInfo,
  type TrainConfig,
  type TrainConfigInput,
} from '@depthfold/core';
import { loadCheckpoint, saveCheckpoint, writeFileAtomic } from '@depthfold/core/node';
import { selectBackend, type BackendChoice } from './backend.js';
import { channelStats, fillBatch, fillLabels, loadDataset, shuffledOrder } from './data/index.js';
import { evaluate } from './evaluate.js';
import { drawGates } from './gates.js';
import { learningRateAt } from './lr-schedule.js';
import { createNetwork, disposeNetwork, networkFromTensors, networkTensors, type Network } from './network.js';
import { Sgd } from './optimizer.js';
import { readMetrics, runPaths, writeMetrics, type EpochMetrics } from './run-dir.js';
import { decayedParameters, trainStep } from './train-step.js';

/** Progress of one step, for progress bars. */
export interface StepProgress {
  epoch: number;
  step: number;
  stepsPerEpoch: number;
  loss: number;
  imagesPerSecond: number;
}

/** Callbacks of {@link train}; all optional. */
export interface TrainHooks {
  onStart?(info: { backend: BackendChoice; runDir: string; resumedFromEpoch: number; config: TrainConfig }): void;
  onStep?(progress: StepProgress): void;
  onEpoch?(metrics: EpochMetrics): void;
}

/** What a finished run leaves. */
export interface TrainResult {
  runDir: string;
  checkpointPath: string;
  metrics: EpochMetrics[];
  backend: BackendChoice;
  config: TrainConfig;
}

/** The run directory of a config. */
export function runDirOf(config: TrainConfig): string {
  return config.runDir ?? join('runs', config.name);
}

/** A seeded random subset of `limit` of `count` indices (all of them, in order, without a limit). */
function subsetIndices(count: number, limit: number | undefined, seed: number): Uint32Array {
  if (limit === undefined || limit >= count) return Uint32Array.from({ length: count }, (_, i) => i);
  const order = shuffledOrder(count, createRng(deriveSeed(seed, 'subset')).next);
  return order.slice(0, limit).sort();
}

/** Trains a network as configured, writing config, metrics and checkpoints to the run directory. */
export async function train(input: TrainConfigInput, hooks: TrainHooks = {}): Promise<TrainResult> {
  let config = parseWith(trainConfigSchema, input, 'train config');
  const runDir = runDirOf(config);
  const paths = runPaths(runDir);
  const hasCheckpoint = existsSync(paths.checkpoint);
  if (hasCheckpoint && !config.resume) {
    throw new Error(`train: ${paths.checkpoint} exists; pass --resume to continue that run, or choose another --name or --run-dir`);
  }
  const resumed = hasCheckpoint ? await loadCheckpoint(paths.checkpoint) : undefined;
  if (resumed) {
    // A resumed run keeps its own settings; only the length of training and the backend may change.
    config = { ...resumed.info.config, epochs: config.epochs, backend: config.backend, resume: true };
  }
  const backend = await selectBackend(config.backend);
  const dataset = await loadDataset(config.dataset, config.data);
  const spec = resnetSpec({
    depth: config.depth,
    input: { height: dataset.height, width: dataset.width, channels: dataset.channels },
    numClasses: dataset.numClasses,
    shortcut: config.shortcut,
  });
  const probs = survivalProbs(config.survivalRule, residualBlocks(spec).length, config.survivalProb);
  const normalization = resumed?.info.normalization ?? channelStats(dataset.train);
  const trainIdx = subsetIndices(dataset.train.count, config.trainLimit, config.seed);
  const stepsPerEpoch = Math.floor(trainIdx.length / config.batchSize);
  if (stepsPerEpoch < 1) {
    throw new Error(`train: batchSize ${config.batchSize} is larger than the ${trainIdx.length} training images`);
  }

  const net: Network = resumed ? networkFromTensors(spec, resumed.params) : createNetwork(spec, createRng(deriveSeed(config.seed, 'init')));
  const optimizer = new Sgd();
  if (resumed) optimizer.restore(resumed.momentum);
  const startEpoch = resumed?.info.epoch ?? 0;
  let step = resumed?.info.step ?? 0;
  const metrics = await readMetrics(runDir, startEpoch);
  await writeFileAtomic(paths.config, JSON.stringify(config, null, 2) + '\n');
  hooks.onStart?.({ backend, runDir, resumedFromEpoch: startEpoch, config });

  const decayed = decayedParameters(spec);
  const { height, width, channels } = dataset;
  const imageSize = height * width * channels;
  const pixels = new Float32Array(config.batchSize * imageSize);
  const labels = new Int32Array(config.batchSize);
  const schedule = { kind: config.lrSchedule, peak: config.learningRate, warmupEpochs: config.warmupEpochs, epochs: config.epochs };
  const started = Date.now();

  for (let epoch = startEpoch; epoch < config.epochs; epoch++) {
    // Every random stream is derived from (seed, epoch), so a run resumed at an epoch boundary replays exactly.
    const order = shuffledOrder(trainIdx.length, createRng(deriveSeed(config.seed, `shuffle/${epoch}`)).next);
    const augmentRng = createRng(deriveSeed(config.seed, `augment/${epoch}`));
    const gateRng = createRng(deriveSeed(config.seed, `gates/${epoch}`));
    let lossSum = 0;
    let correctSum = 0;
    let blocksRun = 0;
    let learningRate = 0;
    const epochStart = performance.now();
    for (let s = 0; s < stepsPerEpoch; s++) {
      const batch = Array.from(order.subarray(s * config.batchSize, (s + 1) * config.batchSize), (i) => trainIdx[i]!);
      fillBatch(dataset.train, batch, pixels, {
        ...normalization,
        augment: { padCrop: config.padCrop, flip: config.flip, rng: augmentRng.next },
      });
      fillLabels(dataset.train, batch, labels);
      const gates = drawGates(probs, gateRng);
      blocksRun += gates.filter(Boolean).length;
      learningRate = learningRateAt(schedule, epoch + s / stepsPerEpoch);
      const x = tf.tensor4d(pixels, [config.batchSize, height, width, channels]);
      const y = tf.tensor1d(labels, 'int32');
      const result = trainStep(net, optimizer, x, y, gates, decayed, {
        learningRate,
        momentum: config.momentum,
        weightDecay: config.weightDecay,
      });
      const loss = (await result.loss.data())[0]!;
      correctSum += (await result.correct.data())[0]!;
      tf.dispose([x, y, result.loss, result.correct]);
      if (!Number.isFinite(loss)) throw new Error(`train: the loss became ${loss} at epoch ${epoch + 1}, step ${s + 1}; lower --learning-rate`);
      lossSum += loss;
      step++;
      const elapsed = (performance.now() - epochStart) / 1000;
      hooks.onStep?.({ epoch, step: s + 1, stepsPerEpoch, loss, imagesPerSecond: ((s + 1) * config.batchSize) / elapsed });
    }
    const seconds = (performance.now() - epochStart) / 1000;
    const test = await evaluate(net, dataset.test, probs, normalization, config.evalBatchSize, config.testLimit);
    const line: EpochMetrics = {
      epoch: epoch + 1,
      step,
      learningRate,
      trainLoss: lossSum / stepsPerEpoch,
      trainError: 1 - correctSum / (stepsPerEpoch * config.batchSize),
      testLoss: test.loss,
      testError: test.error,
      testExamples: test.examples,
      seconds,
      imagesPerSecond: (stepsPerEpoch * config.batchSize) / seconds,
      expectedDepth: expectedDepth(probs),
      realisedDepth: blocksRun / stepsPerEpoch,
      backend: backend.name,
    };
    metrics.push(line);
    const info: CheckpointInfo = {
      formatVersion: 1,
      config,
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
        seconds: metrics.reduce((sum, m) => sum + m.seconds, 0),
        backend: backend.name,
      },
    };
    // Checkpoint first, then metrics: a crash in between leaves a metrics file that resume trims to the checkpoint.
    await saveCheckpoint(paths.checkpoint, { info, params: await networkTensors(net), momentum: await optimizer.state() });
    await writeMetrics(runDir, metrics);
    hooks.onEpoch?.(line);
  }
  void started;
  disposeNetwork(net);
  optimizer.dispose();
  return { runDir, checkpointPath: paths.checkpoint, metrics, backend, config };
}
