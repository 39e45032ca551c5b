// The classifier's contract, shared by every platform entry: what `load` returns and what `classify` takes.
import type { ModelMetadata, Normalization, Preprocessing } from '@depthfold/core';
import type { RawImage } from '@depthfold/images';
import type { ConcreteDevice, Device, ExecutionProvider } from './device.js';
import type { DeviceFallback } from './errors.js';

/**
 * Raw pixels of one image, 0..255, `height * width * channels` values in the order of {@link PixelLayout}. A
 * Float32Array may hold fractions, never values outside 0..255 (nor NaN).
 */
export type Pixels = Uint8Array | Float32Array;

/**
 * The most images one ONNX Runtime call takes: larger batches run in chunks of this size, so memory stays bounded
 * (the input of 256 images of 32x32x3 is 3 MiB) where one call for 100,000 images once took 13.8 GB.
 */
export const MAX_RUN_BATCH = 256;

/** Order of an image's values: HWC (interleaved channels, as decoders give them) or CHW (planar). */
export type PixelLayout = 'HWC' | 'CHW';

/**
 * An encoded image file (PNG, JPEG or WebP; GIF and TIFF too in Node), marked as encoded by this wrapper. A bare
 * `Uint8Array` is always raw pixels, so encoded bytes are told apart by their type and never read as pixels,
 * whatever their length or first bytes.
 * @example classifier.classify({ encoded: await readFile('cat.jpg'), name: 'cat.jpg' })
 */
export interface EncodedImage {
  /** The file's bytes (a Node Buffer is a Uint8Array). */
  readonly encoded: Uint8Array;
  /** What errors call the image, e.g. its file name; default `image bytes`. */
  readonly name?: string;
}

/**
 * What one image may be on every platform:
 * - {@link Pixels}: raw pixels of exactly the model's input (height x width x channels, in the `layout` option's
 *   order), used as they are;
 * - a {@link RawImage} `{ width, height, channels, data }` of any size: decoded pixels, HWC, 1 (grey), 2 (grey +
 *   alpha), 3 (RGB) or 4 (RGBA) channels of 8 or 16 bits, which the model's preprocessing resizes;
 * - an {@link EncodedImage} `{ encoded: bytes }`, decoded and then preprocessed.
 *
 * Raw and encoded images go through the model's recorded preprocessing (`info.preprocessing`): alpha flattened onto
 * its background, its colour, its resize, as in training; a model whose resize is `exact` takes images of its input
 * size only.
 */
export type ImageInput = Pixels | RawImage | EncodedImage;

/** One image or a batch of them; `I` is what one image may be on a platform (Node adds paths, the web DOM images). */
export type Images<I = ImageInput> = I | readonly I[];

/** Options of {@link Classifier.logits} and {@link Classifier.preprocess}. */
export interface PixelOptions {
  /**
   * Order of the values of bare {@link Pixels} (and of what `preprocess` returns); default `HWC`. Raw, encoded and
   * DOM images are HWC by nature, whatever this says.
   */
  layout?: PixelLayout;
}

/** Options of {@link Classifier.classify}. */
export interface ClassifyOptions extends PixelOptions {
  /** How many classes to return per image, 1 to the number of classes; default 3 (or every class, if fewer). */
  topK?: number;
}

/** One class of a classification. */
export interface Prediction {
  label: string;
  /** The class index, i.e. the position of the label in the model's labels. */
  index: number;
  /** Softmax probability over all classes. */
  probability: number;
}

/** The most probable classes of one image, most probable first. */
export interface Classification {
  top: Prediction[];
}

/** Options of `load`. */
export interface LoadOptions {
  /** Where the model runs; default per platform (Node: `cpu`, web: `auto`). `auto` tries the platform's devices in order. */
  device?: Device;
  /**
   * Whether to check the graph and weights against the SHA-256 that export stores in the metadata; default true, and
   * a model without one is refused. `false` loads a model edited on purpose (its metadata is still checked against
   * its graph). Hashing uses SubtleCrypto, which browsers offer on https: and localhost pages only.
   */
  verifyIntegrity?: boolean;
}

/** What a loaded classifier is and where it runs. */
export interface ClassifierInfo {
  /** Class names, by class index. */
  readonly labels: readonly string[];
  /** Size of the network's input: of bare pixels, and of every image after preprocessing. */
  readonly input: { readonly height: number; readonly width: number; readonly channels: number };
  /**
   * How raw and encoded images become the input, as the model records it (alpha background, colour, resize mode);
   * `resize: 'exact'` (every model exported before preprocessing was recorded) takes images of the input size only.
   */
  readonly preprocessing: Readonly<Preprocessing>;
  /** Applied to every pixel: x = (pixel / 255 - mean[c]) / std[c]. From the model, never from the caller. */
  readonly normalization: Normalization;
  /** The network's architecture as the model records it. */
  readonly architecture: ModelMetadata['architecture'];
  /** The device the session runs on (what `auto` resolved to). */
  readonly device: ConcreteDevice;
  /** The execution provider the session was created with; ORT still runs nodes it lacks on its CPU provider. */
  readonly provider: ExecutionProvider;
  /** Devices tried before `device`, with why each failed; empty when the first worked. */
  readonly fallbacks: readonly DeviceFallback[];
  /**
   * Web only: threads of ONNX Runtime's WebAssembly runtime, min(4, cores) on a cross-origin isolated page and 1
   * elsewhere (browsers give SharedArrayBuffer only to isolated pages). Absent in Node.
   */
  readonly wasmThreads?: number;
  /** Everything the model records about itself (dataset, schedule, training metrics, checkpoint). */
  readonly metadata: ModelMetadata;
}

/** An image classifier over a depthfold ONNX model; `I` is what one image may be (see each entry's image type). */
export interface Classifier<I = ImageInput> {
  /** What the model is and where it runs. */
  readonly info: ClassifierInfo;
  /**
   * The top classes of each image.
   * @returns One classification per image, in input order (also for a single image). Batches of any size are run
   * {@link MAX_RUN_BATCH} images per ONNX Runtime call.
   * @throws InferInputError for a bad batch, image (a pixel outside 0..255, a wrong size) or `topK`, before any image
   * is decoded or run; InferImageError (an InferInputError) for an image that cannot be decoded, naming its index,
   * file and reason; InferModelError when the model answers a logit that is not finite (no NaN probability is ever
   * returned). In Node, decoding needs sharp: without it, a call with encoded images (alone) throws an Error saying
   * how to install it.
   */
  classify(images: Images<I>, options?: ClassifyOptions): Promise<Classification[]>;
  /**
   * The model's raw output for each image.
   * @returns One Float32Array of `labels.length` finite logits per image, in input order.
   * @throws As {@link Classifier.classify}, but for `topK`.
   */
  logits(images: Images<I>, options?: PixelOptions): Promise<Float32Array[]>;
  /**
   * What the network sees: each image as the model's input before normalisation, `height * width * channels` values
   * (0..255) in `options.layout` order. Raw, encoded and DOM images are decoded and preprocessed (a new Uint8Array
   * each); bare pixels, in `layout` order already, are returned as given. `classify(await preprocess(images))`
   * classifies as `classify(images)` does.
   * @throws As {@link Classifier.classify}, but for `topK`; runs no inference.
   */
  preprocess(images: Images<I>, options?: PixelOptions): Promise<Pixels[]>;
  /** Releases the session; later calls throw. */
  dispose(): Promise<void>;
}
