// Which backends bring their own training kernels: the one table that names them (tfjs keeps such tables as arrays
// of kernel configs per backend). onednn's set lives in @depthfold/backend-onednn; wasm's in this package.
import { ONEDNN_BACKEND_NAME, onednnTrainingKernels } from '@depthfold/backend-onednn';
import type { TrainingKernels } from './training-kernels.js';
import { wasmTrainingKernels } from './wasm-kernels.js';

/** The training kernels of the backends that have them, by tfjs backend name. */
export const BACKEND_TRAINING_KERNELS: Readonly<Record<string, TrainingKernels>> = Object.freeze({
  [ONEDNN_BACKEND_NAME]: onednnTrainingKernels,
  wasm: wasmTrainingKernels,
});
