// What a run reads, whatever the dataset: its splits as sources of batches and the images of each it uses, its
// labels, input shape and preprocessing. A built-in dataset is read into memory and resized once; a folder of images
// is planned first (file list, preprocessing: nothing decoded, so that a wrong option or network is refused at once),
// then decoded into the cache and loaded.
import { basename } from 'node:path';
import {
  DepthfoldInputError,
  FOLDER_DATASET,
  FOLDER_OPTIONS,
  parseInputSize,
  type Preprocessing,
  type TrainConfig,
} from '@depthfold/core';
import type { RunPaths } from '@depthfold/core/node';
import type { DecodeProgress } from '@depthfold/images/node';
import { type BatchSource, memorySource } from './batch-source.js';
import { type ChannelStats, ChannelHistogram, channelStats } from './batches.js';
import { loadDataset } from './datasets.js';
import { type DecodePassReport, loadFolderData, planFolderData } from './folder-data.js';
import { resizedDataset } from './resize.js';
import { runSplits } from '../training-split.js';

/** The images of a split that a run uses: `indices` of `source`. */
export interface SplitSelection {
  source: BatchSource;
  indices: Uint32Array;
}

/** A run's data, ready to batch. */
export interface RunData {
  /** The dataset's name as the checkpoint records it: a built-in's, or `folder:<folder name>`. */
  name: string;
  /** Class names, by label. */
  labels: readonly string[];
  /** The network's input. */
  input: { height: number; width: number; channels: number };
  /** How the images became the input; undefined for a built-in dataset at its own size (`exact`). */
  preprocessing: Preprocessing | undefined;
  train: SplitSelection;
  validation: SplitSelection | undefined;
  test: SplitSelection;
  /** Random resized crops of the training images (which are then larger than the input), or undefined. */
  trainCrop: { minScale: number } | undefined;
  /** The per-channel mean and standard deviation of pixel / 255 over the training split. */
  channelStats(): Promise<ChannelStats>;
  /** A folder's first pass: what it decoded, found cached and skipped. */
  decode: DecodePassReport | undefined;
}

/** Options of {@link PlannedRunData.load}. */
export interface LoadRunDataOptions {
  /** Progress of a folder's first decoding pass. */
  onDecodeProgress?: (progress: DecodeProgress) => void;
}

/** A run's data before it is loaded: the shape the network is built for. */
export interface PlannedRunData {
  input: { height: number; width: number; channels: number };
  numClasses: number;
  load(options?: LoadRunDataOptions): Promise<RunData>;
}

const all = (count: number) => Uint32Array.from({ length: count }, (_, i) => i);

/** Throws naming the first folder-only option that `config` gives for a built-in dataset. */
function checkBuiltInOptions(config: TrainConfig): void {
  for (const key of FOLDER_OPTIONS) {
    const value = config[key];
    if (value !== undefined && value !== 0 && value !== false)
      throw new DepthfoldInputError(
        key,
        `no --${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} (it is for --dataset folder)`,
        value,
        'train',
      );
  }
}

/** A built-in dataset, read into memory and resized to `--input-size` once. */
async function planBuiltIn(config: TrainConfig): Promise<PlannedRunData> {
  checkBuiltInOptions(config);
  if (config.dataset === FOLDER_DATASET) throw new Error('planBuiltIn: a folder');
  const loaded = await loadDataset(config.dataset, config.data);
  const size = config.inputSize ? parseInputSize(config.inputSize) : { height: loaded.height, width: loaded.width };
  return {
    input: { ...size, channels: loaded.channels },
    numClasses: loaded.numClasses,
    async load() {
      const { dataset, preprocessing } = resizedDataset(loaded, size);
      const splits = runSplits(config, { train: dataset.train.count, test: dataset.test.count });
      const train = memorySource(dataset.train);
      return {
        name: config.dataset,
        labels: dataset.labels,
        input: { ...size, channels: dataset.channels },
        preprocessing,
        train: { source: train, indices: splits.train },
        validation: splits.validation.length > 0 ? { source: train, indices: splits.validation } : undefined,
        test: { source: memorySource(dataset.test), indices: splits.test },
        trainCrop: undefined,
        // Over the whole training split, validation images included, as runs have always normalised.
        channelStats: async () => channelStats(dataset.train),
        decode: undefined,
      };
    },
  };
}

/** A folder of images: planned now, decoded and loaded by `load`. */
async function planFolder(config: TrainConfig, paths: RunPaths, resumed: boolean): Promise<PlannedRunData> {
  const plan = await planFolderData(config, paths.dataset, { checkpoint: resumed, config: config.resume });
  return {
    input: { ...plan.size, channels: plan.channels },
    numClasses: plan.description.classes.length,
    async load(options = {}) {
      const data = await loadFolderData(plan, paths, {
        threads: config.decodeThreads,
        skipBadImages: config.skipBadImages,
        memoryBudgetBytes: config.memoryBudget,
        ...(options.onDecodeProgress ? { onProgress: options.onDecodeProgress } : {}),
      });
      const train = { source: data.train, indices: all(data.train.count) };
      if (train.indices.length < config.batchSize)
        throw new Error(
          `train: batchSize ${config.batchSize} is larger than the ${train.indices.length} training images`,
        );
      return {
        name: `${FOLDER_DATASET}:${basename(data.description.root)}`,
        labels: data.description.classes,
        input: { ...plan.size, channels: plan.channels },
        preprocessing: plan.preprocessing,
        train,
        validation: data.validation ? { source: data.validation, indices: all(data.validation.count) } : undefined,
        test: { source: data.test, indices: all(data.test.count) },
        trainCrop: config.randomResizedCrop > 0 ? { minScale: config.randomResizedCrop } : undefined,
        async channelStats() {
          const histogram = new ChannelHistogram(plan.channels);
          for await (const batch of data.train.batches(train.indices, 256)) histogram.add(batch.split.images);
          return histogram.stats();
        },
        decode: data.report,
      };
    },
  };
}

/**
 * Plans the data of a run: a built-in dataset (read and split now), or a folder (its file list, recorded or scanned
 * anew). `resumed`: the run continues from a checkpoint.
 */
export function planRunData(config: TrainConfig, paths: RunPaths, resumed: boolean): Promise<PlannedRunData> {
  return config.dataset === FOLDER_DATASET ? planFolder(config, paths, resumed) : planBuiltIn(config);
}
