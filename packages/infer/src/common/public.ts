// The part of the public API that every platform entry re-exports unchanged (the contract of onnxruntime's js/
// common package): one list, so the node and web entries cannot drift apart.
export { DepthfoldInputError, type Preprocessing } from '@depthfold/core';
export type { ImageDecodeFailure, RawChannels, RawImage } from '@depthfold/images';
export {
  DEVICES,
  DEVICE_TABLE,
  InferDeviceError,
  InferImageError,
  InferInputError,
  InferIntegrityError,
  InferModelError,
  isDevice,
  MAX_RUN_BATCH,
  PIXEL_LAYOUTS,
  softmax,
  type Classification,
  type ClassifierInfo,
  type ClassifyOptions,
  type ConcreteDevice,
  type Device,
  type DeviceFallback,
  type EncodedImage,
  type ExecutionProvider,
  type ImageInput,
  type Images,
  type LoadOptions,
  type PixelLayout,
  type PixelOptions,
  type Pixels,
  type Platform,
  type PlatformDevices,
  type Prediction,
} from './index.js';
