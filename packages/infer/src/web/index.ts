// @depthfold/infer for browsers: `load` over onnxruntime-web (WebGPU, else WebAssembly), taking a model URL or
// bytes, and images as raw pixels, raw images, encoded bytes, Blobs, ImageData, image elements, bitmaps and canvases.
// Never imports onnxruntime-node, sharp or node APIs.
import {
  loadClassifier,
  type Classifier as ClassifierOf,
  type ImageInput,
  type LoadOptions,
  type RgbaImage,
} from '../common/index.js';
import { ortWebBackend } from './ort-web-backend.js';

export {
  detectEnvironment,
  MAX_WASM_THREADS,
  webEnvironment,
  type WebEnvironment,
  type WebScope,
} from './environment.js';

export * from '../common/public.js';
export type { RgbaImage } from '../common/index.js';

/**
 * One image on the web: an {@link ImageInput} (raw pixels of the model's size, a raw image `{ width, height,
 * channels, data }` of any size, or encoded bytes `{ encoded }`), or what a page has at hand, of any size:
 * - a `Blob` or `File` of an encoded image (PNG, JPEG, WebP, or whatever this browser decodes), e.g. a dropped file;
 * - an `ImageData` (or any `{ data: Uint8ClampedArray, width, height }` of RGBA bytes), e.g. a canvas's
 *   `getImageData`;
 * - an `HTMLImageElement` (awaited until it has loaded), an `ImageBitmap`, an `HTMLCanvasElement` or an
 *   `OffscreenCanvas`.
 *
 * Encoded images are decoded by `createImageBitmap` (no premultiplication, no colour-space conversion, EXIF
 * orientation applied); every image but bare pixels then goes through the model's recorded preprocessing (alpha
 * flattened onto its background, its colour, its resize), the same arithmetic as in training and in Node.
 */
export type WebImage =
  | ImageInput
  | RgbaImage
  | Blob
  | HTMLImageElement
  | ImageBitmap
  | HTMLCanvasElement
  | OffscreenCanvas;

/** A classifier in the browser: a {@link ClassifierOf} that takes {@link WebImage}s. */
export type Classifier = ClassifierOf<WebImage>;

/**
 * Loads a depthfold ONNX model for classification in a browser (or a worker).
 * @param model - A URL of an .onnx file (fetched), or its bytes.
 * @param options - `device`: `auto` (default: WebGPU, else WebAssembly, each failure recorded in
 * `info.fallbacks`), `webgpu`, `wasm` or `cpu` (the same as `wasm`). WebAssembly uses min(4, cores) threads on a
 * cross-origin isolated page and 1 elsewhere (`info.wasmThreads`).
 * `verifyIntegrity`: `true` (default) refuses a model whose graph and weights do not match the SHA-256 stored at
 * export, or that stores none (hashed with SubtleCrypto, which a browser offers on https: and localhost pages only);
 * `false` loads a model edited on purpose.
 * @throws InferInputError for an unknown device or a model URL that does not fetch; InferModelError for bytes that
 * are not valid ONNX or metadata that disagrees with the graph; InferIntegrityError for a digest that does not match;
 * DepthfoldInputError for a model without depthfold metadata; InferDeviceError when the device cannot start a valid
 * model (naming the devices available).
 */
export function load(model: string | URL | Uint8Array, options?: LoadOptions): Promise<Classifier> {
  return loadClassifier(ortWebBackend, model instanceof URL ? model.href : model, options);
}
