// One epoch of training steps: batches drawn from streams seeded by (seed, epoch), so a resumed run replays exactly.
import { createRng, deriveSeed, type Normalization, type TrainConfig } from '@depthfold/core';
import { fillBatch, fillLabels, shuffledOrder } from './data/index.js';
import { randomResizedCropBatch } from './data/random-resized-crop-batch.js';
import type { RunData } from './data/run-data.js';
import { drawGates } from './gates.js';
import { learningRateAt, type LrSchedule } from './lr-schedule.js';
import type { TrainEngine } from './parallel/engine.js';
import type { TrainHooks } from './train-hooks.js';

/** What one epoch needs. */
export interface EpochContext {
  engine: TrainEngine;
  config: TrainConfig;
  data: RunData;
  normalization: Normalization;
  probs: number[];
  schedule: LrSchedule;
  hooks: TrainHooks;
}

/** What {@link trainEpoch} did: steps run, their summed loss and hits, blocks run, and the last learning rate. */
export interface EpochRun {
  steps: number;
  lossSum: number;
  correct: number;
  blocksRun: number;
  learningRate: number;
  /** Mean gradient magnitude per parameter group (the part of a name before its first dot). */
  gradMagnitude: Record<string, number>;
  seconds: number;
  /** Seconds of `seconds` spent getting batches ready (loader, crops, normalisation) before their steps. */
  dataSeconds: number;
}

/** Runs the training steps of one epoch (drop-last batches): the 0-based `epoch` of `ctx`'s run. */
export async function trainEpoch(ctx: EpochContext, epoch: number): Promise<EpochRun> {
  const { engine, config, data, normalization, probs, schedule, hooks } = ctx;
  const trainIdx = data.train.indices;
  const { height, width, channels } = data.input;
  const steps = Math.floor(trainIdx.length / config.batchSize);
  const pixels = new Float32Array(config.batchSize * height * width * channels);
  const labels = new Int32Array(config.batchSize);
  // Every random stream is derived from (seed, epoch), so a run resumed at an epoch boundary replays exactly.
  const order = shuffledOrder(trainIdx.length, createRng(deriveSeed(config.seed, `shuffle/${epoch}`)).next);
  const augmentRng = createRng(deriveSeed(config.seed, `augment/${epoch}`));
  // Its own stream, so that the crops and flips of a seed do not depend on the erasing probability.
  const erasingRng = createRng(deriveSeed(config.seed, `random-erasing/${epoch}`));
  const cropRng = createRng(deriveSeed(config.seed, `random-resized-crop/${epoch}`));
  const gateRng = createRng(deriveSeed(config.seed, `gates/${epoch}`));
  let lossSum = 0;
  let correct = 0;
  let blocksRun = 0;
  let learningRate = 0;
  let dataMs = 0;
  const magnitudes = new Map<string, { sum: number; count: number }>();
  // The epoch's images in order, drop-last: a streaming source reads (and prefetches) only these.
  const sequence = Array.from(order.subarray(0, steps * config.batchSize), (i) => trainIdx[i]!);
  const batches = data.train.source.batches(sequence, config.batchSize);
  const start = performance.now();
  try {
    for (let s = 0; s < steps; s++) {
      const asked = performance.now();
      const next = await batches.next();
      if (next.done) throw new Error(`train: the training source ended after ${s} of ${steps} batches`);
      const batch = data.trainCrop
        ? randomResizedCropBatch(next.value, data.input, data.trainCrop.minScale, cropRng.next)
        : next.value;
      const erasing = { probability: config.randomErasing, rng: erasingRng.next };
      fillBatch(batch.split, batch.indices, pixels, {
        ...normalization,
        augment: { padCrop: config.padCrop, flip: config.flip, rng: augmentRng.next, erasing },
      });
      fillLabels(batch.split, batch.indices, labels);
      dataMs += performance.now() - asked;
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
  } finally {
    await batches.return(undefined);
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
    dataSeconds: dataMs / 1000,
  };
}
