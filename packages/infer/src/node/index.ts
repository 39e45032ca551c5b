// @depthfold/infer for Node: `load` over onnxruntime-node, and the platform-free contract re-exported; besides, for
// code that runs sessions itself (@depthfold/serve), the session factory `load` uses and its pixel normalisation.
import { loadClassifier, type Classifier as ClassifierOf, type ImageInput, type LoadOptions } from '../common/index.js';
import { ortNodeBackend } from './ort-backend.js';

export * from '../common/public.js';

/**
 * One image in Node: an {@link ImageInput} (raw pixels of the model's size, a raw image `{ width, height, channels,
 * data }` of any size, or encoded bytes `{ encoded }`), or the path of an image file. Paths and encoded bytes are
 * PNG, JPEG, WebP, GIF (first frame) or TIFF (first page), decoded by sharp (an optional dependency, loaded on the
 * first decode) with EXIF orientation applied; images over 100 megapixels are refused from their header. A bare
 * Buffer or Uint8Array is always raw pixels: wrap a file's bytes as `{ encoded: bytes }`.
 */
export type NodeImage = ImageInput | string;

/** A classifier in Node: a {@link ClassifierOf} that takes {@link NodeImage}s. */
export type Classifier = ClassifierOf<NodeImage>;
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
