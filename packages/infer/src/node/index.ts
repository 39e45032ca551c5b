// @depthfold/infer for Node: `load` over onnxruntime-node, and the platform-free contract re-exported; besides, for
// code that runs sessions itself (@depthfold/serve), the session factory `load` uses and its pixel normalisation.
import { loadClassifier, type Classifier, type LoadOptions } from '../common/index.js';
import { ortNodeBackend } from './ort-backend.js';

export * from '../common/public.js';
export type { Classifier } from '../common/index.js';
export type { ModelSession, SessionOptions, TensorData } from '../common/backend.js';
export { type ImageShape, normalizePixelsInPlace } from '../common/preprocess.js';
export type { StartedSession } from '../common/session-start.js';
export { createSession } from './create-session.js';

/**
 * Loads a depthfold ONNX model for classification.
 * @param model - A path to an .onnx file, or its bytes.
 * @param options - `device`: `cpu` (default), `cuda`, `webgpu`, or `auto` (tries cuda, webgpu, cpu in order and
 * records each failure in `info.fallbacks`).
 * `verifyIntegrity`: `true` (default) refuses a model whose graph and weights do not match the SHA-256 stored at
 * export, or that stores none; `false` loads a model edited on purpose.
 * @throws InferInputError for an unknown device or an unreadable file; InferModelError for a file that is not valid
 * ONNX (naming it, also when ONNX Runtime cannot parse it) or whose metadata disagrees with its graph;
 * InferIntegrityError for a digest that does not match; DepthfoldInputError for a model without depthfold metadata;
 * InferDeviceError when the device cannot start a valid model (naming the devices available).
 */
export function load(model: string | Uint8Array, options?: LoadOptions): Promise<Classifier> {
  return loadClassifier(ortNodeBackend, model, options);
}
