// @depthfold/testing: what the workspace's tests share. A devDependency only; nothing in a package's src imports it.
// It depends on @depthfold/core alone, so that every package's tests (onnx's too) can use it without a cycle.
export {
  metadataFor,
  type ModelWriter,
  modelBytesOf,
  unstampedMetadataFor,
} from './model-fixtures.js';
export {
  CASES,
  type Case,
  gaussian,
  IMAGENET_CASES,
  randomCheckpoint,
  randomTensor,
  randomVariance,
} from './random-checkpoint.js';
export { randomPixels } from './random-pixels.js';
export { isCi, requirement, type SkippableTest, type SkipWarning } from './requirement.js';
export { type TempFile, tempFile } from './temp-file.js';
export { encodePng, pngBomb } from './png.js';
