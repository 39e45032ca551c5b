// @depthfold/images: a model's input from decoded pixels, the same arithmetic in training, Node and browsers
// (no Node API, no sharp here; decoding, folders and the cache are in @depthfold/images/node).
export {
  checkRawImage,
  checkSize,
  to8Bit,
  type ImageSize,
  type PreprocessedImage,
  type RawChannels,
  type RawImage,
  type RawImage8,
} from './raw-image.js';
export { flattenSample, greyOf, toColour, type ColourImage } from './colour.js';
export { cropImage, resizeBilinear, type CropRect } from './resample.js';
export { preprocessImage, resizeGeometry, roundHalfEven, type ResizeGeometry } from './preprocess.js';
export {
  randomResizedCrop,
  randomResizedCropRect,
  type RandomResizedCropOptions,
  type UniformRandom,
} from './random-resized-crop.js';
export { IMAGE_BYTES, ImageDecodeError, ImageFolderError, oneLine, type ImageDecodeFailure } from './errors.js';
