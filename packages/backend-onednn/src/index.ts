// @depthfold/backend-onednn: a TensorFlow.js backend for Node whose training kernels run in the system oneDNN.
// Importing it loads nothing native; registerOnednnBackend() does, and says why where it cannot.
export { MathBackendOnednn, ONEDNN_BACKEND_NAME } from './backend.js';
export { gemmPeak } from './gemm-peak.js';
export { OnednnKernel } from './kernels/norm.js';
export { onednnTrainingKernels, type OnednnSgdHyperparameters } from './training-kernels.js';
export type { OnednnBinding, OnednnInfo, OnednnNativeInfo, PrecisionCode } from './native.js';
export {
  ONEDNN_PRECISIONS,
  type OnednnBf16Support,
  type OnednnPrecision,
  onednnBf16Support,
  onednnPrecision,
  setOnednnPrecision,
} from './precision.js';
export {
  bf16CallCounts,
  nativeCallCounts,
  onednnAvailability,
  onednnInfo,
  registerOnednnBackend,
  resetNativeCallCounts,
  type OnednnOptions,
} from './register.js';
