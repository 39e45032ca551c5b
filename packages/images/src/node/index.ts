// @depthfold/images/node: decoding with sharp (loaded on first use), folders of images as datasets, the decode
// cache and the loader that feeds training. The browser-safe arithmetic is re-exported, so one import serves Node.
export * from '../index.js';
export {
  DEFAULT_LIMIT_INPUT_PIXELS,
  IMAGE_FORMATS,
  decodeCount,
  decodeImage,
  notAnImageReason,
  sniffFormat,
  type DecodeOptions,
  type DecodedImage,
  type ImageFormat,
} from './decode.js';
export {
  IMAGE_EXTENSIONS,
  SPLIT_FOLDERS,
  scanImageFolder,
  type IgnoredFile,
  type ImageFile,
  type ImageFolderScan,
  type SplitFolder,
} from './image-folder.js';
export {
  DATASET_SPLITS,
  datasetChanges,
  datasetDescriptionSchema,
  filesOf,
  readDatasetDescription,
  splitImageFolder,
  writeDatasetDescription,
  type DatasetChanges,
  type DatasetDescription,
  type DatasetSplit,
  type DescribedFile,
  type SplitOptions,
} from './dataset-description.js';
export {
  DecodeCache,
  type BadImage,
  type DecodeCacheOptions,
  type DecodeProgress,
  type DecodeReport,
  type ImageList,
  type FillOptions,
} from './decode-cache.js';
export { defaultDecodeThreads } from './decode-pool.js';
export { ImageLoader, type ImageBatch, type ImageLoaderOptions, type LoaderWaitStats } from './image-loader.js';
