// A folder of images as a run's data: the file list (folder-files.ts), its preprocessing, and a first pass that
// decodes every image not yet cached on every core into @depthfold/images' decode cache; then one loader per split,
// holding the images in memory within --memory-budget, else streaming them from the cache with prefetch.
//   evaluation (validation, test, the exported model): the --resize mode at the input size;
//   training: the same bytes, or with --random-resized-crop S the centre crop of the input's aspect ratio cached at
//   twice the input size, from which each epoch draws its crops (random-resized-crop-batch.ts).
// Each image is decoded once: training and evaluation images are different files, and a later epoch or a later run
// finds every entry in the cache (keyed by path, size, mtime and preprocessing).
import { homedir } from 'node:os';
import { join } from 'node:path';
import {
  colourOf,
  DepthfoldInputError,
  FOLDER_DEFAULT_INPUT_SIZE,
  parseInputSize,
  type Preprocessing,
  type TrainConfig,
} from '@depthfold/core';
import {
  type BadImage,
  type DatasetDescription,
  type DecodeProgress,
  type DecodeReport,
  DecodeCache,
  type DescribedFile,
  defaultDecodeThreads,
  filesOf,
  ImageFolderError,
  ImageLoader,
  type ImageSize,
  writeDatasetDescription,
} from '@depthfold/images/node';
import { type BatchSource, loaderSource } from './batch-source.js';
import { folderFiles, withoutBadImages, writeSkippedImages } from './folder-files.js';

/** The centre crop's share of the resized side where `--crop-fraction` is not given (ImageNet's 224 of 256). */
export const DEFAULT_CROP_FRACTION = 0.875;

/** How much larger than the input the training images are cached for random resized crops. */
export const RANDOM_RESIZED_CROP_SOURCE_SCALE = 2;

/** Where decoded images are cached by default: `$XDG_CACHE_HOME/depthfold/images`, else `~/.cache/depthfold/images`. */
export function defaultCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'depthfold', 'images');
}

/** A folder run's data before any image is decoded: what to read and how to preprocess it. */
export interface FolderPlan {
  description: DatasetDescription;
  /** Whether the description is the run's recorded one (resumed). */
  recorded: boolean;
  /** The input's height and width, and channels. */
  size: ImageSize;
  channels: 1 | 3;
  /** Evaluation's preprocessing: what the model records and every runtime replays. */
  preprocessing: Preprocessing;
  /** What the training images are cached as: evaluation's, or the larger source of random resized crops. */
  train: { preprocessing: Preprocessing; size: ImageSize };
  cacheDir: string;
  /** When planning began (performance.now()), for the time to the first batch. */
  started: number;
}

/** The preprocessing of evaluation from a config's --resize, --crop-fraction and --channels. */
function evaluationPreprocessing(config: TrainConfig, channels: 1 | 3): Preprocessing {
  const resize = config.resize ?? 'shorter-side-crop';
  if (resize === 'stretch' && config.cropFraction !== undefined)
    throw new DepthfoldInputError(
      'cropFraction',
      'no --crop-fraction with --resize stretch (it crops nothing)',
      config.cropFraction,
      'train',
    );
  return {
    resize,
    interpolation: 'bilinear',
    cropFraction: resize === 'stretch' ? 1 : (config.cropFraction ?? DEFAULT_CROP_FRACTION),
    colour: colourOf(channels),
    background: [0, 0, 0],
  };
}

/**
 * Plans a folder run: its file list ({@link folderFiles}), input size (`--input-size`, else
 * {@link FOLDER_DEFAULT_INPUT_SIZE}), channels and preprocessing. Nothing is decoded yet, so that a wrong option or
 * network is refused at once.
 */
export async function planFolderData(
  config: TrainConfig,
  datasetPath: string,
  resuming: { checkpoint: boolean; config: boolean },
): Promise<FolderPlan> {
  const started = performance.now();
  const channels = (config.channels ?? 3) as 1 | 3;
  const preprocessing = evaluationPreprocessing(config, channels);
  const size = parseInputSize(config.inputSize ?? String(FOLDER_DEFAULT_INPUT_SIZE));
  const { description, recorded } = await folderFiles(config, datasetPath, resuming);
  const scale = RANDOM_RESIZED_CROP_SOURCE_SCALE;
  const train =
    config.randomResizedCrop > 0
      ? {
          preprocessing: { ...preprocessing, resize: 'shorter-side-crop' as const, cropFraction: 1 },
          size: { height: size.height * scale, width: size.width * scale },
        }
      : { preprocessing, size };
  const cacheDir = config.cacheDir ?? defaultCacheDir();
  return { description, recorded, size, channels, preprocessing, train, cacheDir, started };
}

/** What the first pass did. */
export interface DecodePassReport {
  /** Images listed for the run (before skipping). */
  images: number;
  /** Decoded by this pass (cache misses), and found in the cache. */
  decoded: number;
  cached: number;
  /** Images skipped (with `--skip-bad-images`), in listed order, and where they are listed. */
  skipped: BadImage[];
  skippedList: string | undefined;
  /** Seconds spent decoding and decoded images per second (0 when nothing was decoded). */
  seconds: number;
  imagesPerSecond: number;
  threads: number;
  /** The cache folders (one per preprocessing). */
  cacheFolders: string[];
  /** How each split is read: held in memory or streamed. */
  modes: { train: 'memory' | 'stream'; validation?: 'memory' | 'stream'; test: 'memory' | 'stream' };
  /** Files of the folder that the scan ignored (not images by extension, hidden...). */
  ignored: number;
  /** Seconds from listing the folder (or reading the recorded list) to every loader open: the wait before training. */
  readySeconds: number;
}

/** A folder run's data, decoded and ready to batch. */
export interface FolderData {
  /** The file list the run uses, as recorded in the run directory. */
  description: DatasetDescription;
  train: BatchSource;
  validation: BatchSource | undefined;
  test: BatchSource;
  report: DecodePassReport;
}

/** Where a folder run writes its file list and skipped images. */
export interface FolderRunFiles {
  dataset: string;
  skippedImages: string;
}

/** Options of {@link loadFolderData}. */
export interface LoadFolderOptions {
  /** Decode threads; 0 or absent: one per core. */
  threads?: number;
  skipBadImages?: boolean;
  memoryBudgetBytes: number;
  /** Progress of the first pass over all the run's images. */
  onProgress?: (progress: DecodeProgress) => void;
}

/**
 * Decodes the plan's images not yet in the cache (on every core, with progress), records the file list (less any
 * skipped images, which are listed in `files.skippedImages`) and opens a loader per split.
 *
 * @throws ImageDecodeError naming the first image that cannot be decoded and why, unless `skipBadImages`;
 * ImageFolderError naming a class whose training images were all skipped.
 */
export async function loadFolderData(
  plan: FolderPlan,
  files: FolderRunFiles,
  options: LoadFolderOptions,
): Promise<FolderData> {
  const { description, size, channels } = plan;
  const evalCache = await DecodeCache.open({ dir: plan.cacheDir, preprocessing: plan.preprocessing, size });
  const sameAsEvaluation =
    JSON.stringify([plan.train.preprocessing, plan.train.size]) === JSON.stringify([plan.preprocessing, size]);
  const trainCache = sameAsEvaluation
    ? evalCache
    : await DecodeCache.open({ dir: plan.cacheDir, preprocessing: plan.train.preprocessing, size: plan.train.size });
  const threads = options.threads || defaultDecodeThreads();
  const skipBadImages = options.skipBadImages ?? false;
  const trainFiles = filesOf(description, 'train');
  const heldOut = [...filesOf(description, 'validation'), ...filesOf(description, 'test')];
  const total = trainFiles.length + heldOut.length;
  const passes: [DecodeCache, DescribedFile[]][] = [
    [trainCache, trainFiles],
    [evalCache, heldOut],
  ];
  const reports: DecodeReport<DescribedFile>[] = [];
  let before = { done: 0, decoded: 0, cached: 0, bad: 0 };
  for (const [cache, list] of passes) {
    const report = await cache.fill(
      { root: description.root, files: list },
      {
        threads,
        skipBadImages,
        onProgress: (p) =>
          options.onProgress?.({
            done: before.done + p.done,
            total,
            decoded: before.decoded + p.decoded,
            cached: before.cached + p.cached,
            bad: before.bad + p.bad,
            imagesPerSecond: p.imagesPerSecond,
          }),
      },
    );
    reports.push(report);
    before = {
      done: before.done + list.length,
      decoded: before.decoded + report.decoded,
      cached: before.cached + report.cached,
      bad: before.bad + report.bad.length,
    };
  }
  const skipped = reports.flatMap((r) => r.bad);
  const used = withoutBadImages(description, skipped);
  checkClassesKept(used, skipped);
  if (skipped.length > 0) await writeSkippedImages(files.skippedImages, skipped, plan.recorded);
  await writeDatasetDescription(files.dataset, used);

  const budget = { left: options.memoryBudgetBytes };
  const open = async (cache: DecodeCache, list: DescribedFile[], shape: ImageSize): Promise<BatchSource> => {
    const loader = await ImageLoader.open(cache, { root: used.root, files: list }, { memoryBudgetBytes: budget.left });
    if (loader.mode === 'memory') budget.left -= list.length * cache.imageBytes;
    return loaderSource(loader, { ...shape, channels });
  };
  const train = await open(trainCache, filesOf(used, 'train'), plan.train.size);
  const test = await open(evalCache, filesOf(used, 'test'), size);
  const validationFiles = filesOf(used, 'validation');
  const validation = validationFiles.length > 0 ? await open(evalCache, validationFiles, size) : undefined;
  const seconds = reports.reduce((s, r) => s + r.decodeSeconds, 0);
  return {
    description: used,
    train,
    validation,
    test,
    report: {
      images: total,
      decoded: before.decoded,
      cached: before.cached,
      skipped,
      skippedList: skipped.length > 0 ? files.skippedImages : undefined,
      seconds,
      imagesPerSecond: seconds > 0 ? before.decoded / seconds : 0,
      threads,
      cacheFolders: [...new Set([trainCache.folder, evalCache.folder])],
      modes: { train: train.mode, ...(validation ? { validation: validation.mode } : {}), test: test.mode },
      ignored: description.ignored,
      readySeconds: (performance.now() - plan.started) / 1000,
    },
  };
}

/** Throws naming the first class with no training image left after skipping (or after --train-limit). */
function checkClassesKept(description: DatasetDescription, skipped: readonly BadImage[]): void {
  const counts = new Array<number>(description.classes.length).fill(0);
  for (const f of filesOf(description, 'train')) counts[f.label]!++;
  const empty = counts.indexOf(0);
  if (empty >= 0)
    throw new ImageFolderError(
      description.root,
      `class "${description.classes[empty]}" has no training image left${skipped.length > 0 ? ` after skipping ${skipped.length} bad image${skipped.length === 1 ? '' : 's'}` : ' (--train-limit)'}`,
    );
}
