// @depthfold/backend-onednn: a TensorFlow.js backend for Node whose training kernels run in the system oneDNN.
// Importing it loads nothing native; registerOnednnBackend() does, and says why where it cannot.
export { MathBackendOnednn, ONEDNN_BACKEND_NAME } from './backend.js';
export { OnednnKernel } from './kernels/norm.js';
export type { OnednnBinding, OnednnInfo } from './native.js';
export {
  nativeCallCounts,
  onednnAvailability,
  registerOnednnBackend,
  resetNativeCallCounts,
  type OnednnOptions,
} from './register.js';
