// The platform-free part of @depthfold/infer: the contract, the device table, errors and the pixel and logit maths.
// Imports neither a runtime nor node APIs, so the Node and web entries share it.
export type { InferenceBackend, ModelSession, ModelSource, SessionOptions, TensorData } from './backend.js';
export { SessionClassifier } from './classifier-impl.js';
export {
  DEVICES,
  DEVICE_TABLE,
  isDevice,
  platformDevices,
  resolveDevice,
  type ConcreteDevice,
  type Device,
  type DeviceCandidate,
  type ExecutionProvider,
  type Platform,
  type PlatformDevices,
} from './device.js';
export {
  InferDeviceError,
  InferImageError,
  InferInputError,
  InferIntegrityError,
  InferModelError,
  ProviderUnavailableError,
  type DeviceFallback,
} from './errors.js';
export { loadClassifier } from './load-classifier.js';
export { softmax, topK } from './postprocess.js';
export { type ImageShape, normalizePixelsInPlace, toNchwInput } from './preprocess.js';
export {
  checkSessionOptions,
  deviceErrorOf,
  type SessionAttempts,
  type StartedSession,
  startFirstSession,
} from './session-start.js';
export { MAX_RUN_BATCH } from './classifier.js';
export type {
  Classification,
  Classifier,
  ClassifierInfo,
  ClassifyOptions,
  EncodedImage,
  ImageInput,
  Images,
  LoadOptions,
  PixelLayout,
  PixelOptions,
  Pixels,
  Prediction,
} from './classifier.js';
export {
  checkBatch,
  checkEncodedImage,
  checkRawImage,
  DECODE_CONCURRENCY,
  isEncodedImage,
  isRawImage,
  prepareImages,
  preprocessForModel,
  type CheckedBatch,
  type ImageReader,
  type ModelInput,
} from './image-input.js';
export { isRgbaImage, rgbaToRaw, type RgbaImage } from './rgba-image.js';
export { checkLayout, checkTopK, PIXEL_LAYOUTS } from './validate.js';
