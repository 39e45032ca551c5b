// @depthfold/infer for Node: `load` over onnxruntime-node, and the platform-free contract re-exported.
import { loadClassifier, type Classifier, type LoadOptions } from '../common/index.js';
import { ortNodeBackend } from './ort-backend.js';

export * from '../common/public.js';
export { type Classifier } from '../common/index.js';

/**
 * Loads a depthfold ONNX model for classification.
 * @param model - A path to an .onnx file, or its bytes.
 * @param options - `device`: `cpu` (default), `cuda`, `webgpu`, or `auto` (tries cuda, webgpu, cpu in order and
 * records each failure in `info.fallbacks`).
 * @throws InferInputError for an unknown device or an unreadable file; DepthfoldInputError for bytes that are not
 * ONNX or lack depthfold metadata; InferDeviceError when the device cannot start (naming the devices available).
 */
export function load(model: string | Uint8Array, options?: LoadOptions): Promise<Classifier> {
  return loadClassifier(ortNodeBackend, model, options);
}
