/**
 * The public API of the dataset readers: loading datasets, the file formats and batching.
 * Randomness comes from `createRng` in `@depthfold/core`; pass `() => rng.next()` where an `rng` is wanted.
 */
export { DatasetError, type DatasetErrorDetails } from './errors.js';
export { parseIdx, readIdxFile, type IdxArray } from './idx.js';
export {
  parseCifar,
  readCifarFile,
  concatCifar,
  cifarRecordBytes,
  CIFAR_SIZE,
  CIFAR_CHANNELS,
  CIFAR_IMAGE_BYTES,
  type CifarVariant,
  type CifarRecords,
} from './cifar.js';
export {
  loadDataset,
  DEFAULT_FASHION_MNIST_DIR,
  type Dataset,
  type Split,
} from './datasets.js';
export { resizedDataset, type ResizedDataset } from './resize.js';
export { type BatchSource, type SourceBatch, loaderSource, memorySource } from './batch-source.js';
export {
  DEFAULT_TEST_SPLIT,
  folderFiles,
  withoutBadImages,
  writeSkippedImages,
  type FolderFiles,
} from './folder-files.js';
export {
  DEFAULT_CROP_FRACTION,
  RANDOM_RESIZED_CROP_SOURCE_SCALE,
  defaultCacheDir,
  loadFolderData,
  planFolderData,
  type DecodePassReport,
  type FolderData,
  type FolderPlan,
  type FolderRunFiles,
  type LoadFolderOptions,
} from './folder-data.js';
export { randomResizedCropBatch } from './random-resized-crop-batch.js';
export {
  planRunData,
  type LoadRunDataOptions,
  type PlannedRunData,
  type RunData,
  type SplitSelection,
} from './run-data.js';
export { runTestSplit, type RunTestSplit } from './run-test-split.js';
export {
  shuffledOrder,
  fillBatch,
  fillLabels,
  channelStats,
  ChannelHistogram,
  erasingRectangle,
  RANDOM_ERASING,
  type ChannelStats,
  type Augment,
  type RandomErasing,
  type Rectangle,
  type FillBatchOptions,
} from './batches.js';
