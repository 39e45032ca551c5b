// What the HTTP layer knows of a served model: its name, tensors, labels and limits, taken from the model's own
// metadata, and the V2 model-metadata reply built from them.
import { DepthfoldInputError, type ModelMetadata, type Normalization, type Preprocessing } from '@depthfold/core';
import { IMAGE_FORMATS as DECODED_FORMATS } from '@depthfold/images/node';
import { PLATFORM, type ModelMetadataResponse, type V2Datatype } from './protocol.js';

/** The version of a model served from a lone .onnx file, as in a Triton repository's `<name>/1/`. */
export const MODEL_VERSION = '1';

/**
 * Input datatypes a request may use: FP32 is the network's normalised input, UINT8 raw pixels, BYTES one encoded
 * image (PNG, JPEG, WebP, GIF or TIFF) per batch row, decoded with the model's recorded preprocessing.
 */
export const INPUT_DATATYPES: readonly V2Datatype[] = ['FP32', 'UINT8', 'BYTES'];

/** The formats a BYTES input may carry: those @depthfold/images/node decodes, told apart by their first bytes. */
export const IMAGE_FORMATS: readonly string[] = DECODED_FORMATS;

/**
 * The largest width x height of an image in a BYTES input, by default: 2^24 pixels (4096 x 4096, a 12-megapixel
 * phone photo fits). Over it an image is refused from its header, before decoding: a PNG of a few hundred kilobytes
 * can hold billions of pixels, and a decode holds them all (4 bytes each for RGBA, 8 at 16 bits).
 */
export const DEFAULT_MAX_IMAGE_PIXELS = 2 ** 24;

/** The shape a BYTES input advertises: one element per batch row, `[N, 1]` as Triton's image clients send it. */
export const IMAGE_INPUT_SHAPE: readonly number[] = [-1, 1];

/** Names travel in URL paths and Triton directory names: characters that need no escaping. */
export const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** A served model as requests see it: every read of the model's metadata that serving makes is in {@link modelSpecOf}. */
export interface ModelSpec {
  /** The model's name in URLs: the file's base name without `.onnx`, or its folder in a Triton repository. */
  readonly name: string;
  /** Its version: the number of its folder in a Triton repository, `1` for a lone file. */
  readonly version: string;
  readonly inputName: string;
  readonly outputName: string;
  readonly input: { readonly channels: number; readonly height: number; readonly width: number };
  readonly labels: readonly string[];
  readonly normalization: Normalization;
  /** How an image of any size becomes the input (decoded BYTES rows go through it), as the model recorded it. */
  readonly preprocessing: Preprocessing;
  /** The largest batch one request may carry, and one ORT call runs. */
  readonly maxBatch: number;
  /** The largest width x height of an image in a BYTES input; larger ones are refused before decoding. */
  readonly maxImagePixels: number;
}

/**
 * The spec of a model from its depthfold metadata: the one place that reads it (labels, input, its preprocessing,
 * output name and normalisation), so that a change of the metadata's schema touches serving here only.
 * @throws DepthfoldInputError for a name that would need escaping in a URL, or a pixel limit that is not an integer >= 1.
 */
export function modelSpecOf(
  name: string,
  metadata: ModelMetadata,
  maxBatch: number,
  version = MODEL_VERSION,
  maxImagePixels = DEFAULT_MAX_IMAGE_PIXELS,
): ModelSpec {
  if (!MODEL_NAME.test(name)) {
    throw new DepthfoldInputError(
      'model name',
      'letters, digits, ".", "_" and "-", starting with a letter or digit (the file name without .onnx)',
      name,
    );
  }
  if (!Number.isInteger(maxImagePixels) || maxImagePixels < 1)
    throw new DepthfoldInputError('maxImagePixels', 'an integer >= 1', maxImagePixels, 'model options');
  const { channels, height, width } = metadata.input;
  const { preprocessing } = metadata.input;
  return Object.freeze({
    name,
    version,
    inputName: metadata.input.name,
    outputName: metadata.output.name,
    input: Object.freeze({ channels, height, width }),
    labels: Object.freeze([...metadata.labels]),
    normalization: Object.freeze({
      mean: Object.freeze([...metadata.normalization.mean]),
      std: Object.freeze([...metadata.normalization.std]),
    }) as Normalization,
    preprocessing: Object.freeze({
      ...preprocessing,
      background: Object.freeze([...preprocessing.background]),
    }) as Preprocessing,
    maxBatch,
    maxImagePixels,
  });
}

/**
 * The reply to `GET /v2/models/{name}[/versions/{v}]`: the protocol's fields, and ours under `depthfold`. `inputs`
 * lists the network's own FP32 tensor alone, as config.pbtxt declares it: Triton's clients take that list as the
 * tensors to send (its image client requires exactly one). The other forms of that input, UINT8 pixels and BYTES
 * images, are named under `depthfold` (`input_datatypes`, `images`).
 * @param versions - The model's versions being served, highest first; default the spec's own.
 */
export function modelMetadataResponse(
  spec: ModelSpec,
  versions: readonly string[] = [spec.version],
): ModelMetadataResponse {
  const { channels, height, width } = spec.input;
  return {
    name: spec.name,
    versions: [...versions],
    platform: PLATFORM,
    inputs: [{ name: spec.inputName, datatype: 'FP32', shape: [-1, channels, height, width] }],
    outputs: [{ name: spec.outputName, datatype: 'FP32', shape: [-1, spec.labels.length] }],
    depthfold: {
      labels: [...spec.labels],
      input_datatypes: [...INPUT_DATATYPES],
      normalization: { mean: [...spec.normalization.mean], std: [...spec.normalization.std] },
      max_batch_size: spec.maxBatch,
      images: {
        shape: [...IMAGE_INPUT_SHAPE],
        formats: [...IMAGE_FORMATS],
        max_pixels: spec.maxImagePixels,
        preprocessing: { ...spec.preprocessing, background: [...spec.preprocessing.background] },
      },
    },
  };
}
