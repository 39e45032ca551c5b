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
export {
  shuffledOrder,
  fillBatch,
  fillLabels,
  channelStats,
  erasingRectangle,
  RANDOM_ERASING,
  type ChannelStats,
  type Augment,
  type RandomErasing,
  type Rectangle,
  type FillBatchOptions,
} from './batches.js';
