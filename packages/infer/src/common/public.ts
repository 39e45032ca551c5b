// The part of the public API that every platform entry re-exports unchanged (the contract of onnxruntime's js/
// common package): one list, so the node and web entries cannot drift apart.
export { DepthfoldInputError } from '@depthfold/core';
export {
  DEVICES,
  DEVICE_TABLE,
  InferDeviceError,
  InferInputError,
  isDevice,
  PIXEL_LAYOUTS,
  softmax,
  type Classification,
  type ClassifierInfo,
  type ClassifyOptions,
  type ConcreteDevice,
  type Device,
  type DeviceFallback,
  type ExecutionProvider,
  type Images,
  type LoadOptions,
  type PixelLayout,
  type PixelOptions,
  type Pixels,
  type Platform,
  type PlatformDevices,
  type Prediction,
} from './index.js';
