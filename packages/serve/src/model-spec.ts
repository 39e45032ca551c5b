// What the HTTP layer knows of a served model: its name, tensors, labels and limits, taken from the model's own
// metadata, and the V2 model-metadata reply built from them.
import { DepthfoldInputError, type ModelMetadata, type Normalization } from '@depthfold/core';
import { PLATFORM, type ModelMetadataResponse, type V2Datatype } from './protocol.js';

/** The version of a model served from a lone .onnx file, as in a Triton repository's `<name>/1/`. */
export const MODEL_VERSION = '1';

/** Input datatypes a request may use: FP32 is the network's normalised input, UINT8 raw pixels. */
export const INPUT_DATATYPES: readonly V2Datatype[] = ['FP32', 'UINT8'];

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
  /** The largest batch one request may carry, and one ORT call runs. */
  readonly maxBatch: number;
}

/**
 * The spec of a model from its depthfold metadata: the one place that reads it (labels, input, output name and
 * normalisation), so that a change of the metadata's schema touches serving here only.
 * @throws DepthfoldInputError for a name that would need escaping in a URL.
 */
export function modelSpecOf(
  name: string,
  metadata: ModelMetadata,
  maxBatch: number,
  version = MODEL_VERSION,
): ModelSpec {
  if (!MODEL_NAME.test(name)) {
    throw new DepthfoldInputError(
      'model name',
      'letters, digits, ".", "_" and "-", starting with a letter or digit (the file name without .onnx)',
      name,
    );
  }
  const { channels, height, width } = metadata.input;
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
    maxBatch,
  });
}

/**
 * The reply to `GET /v2/models/{name}[/versions/{v}]`: the protocol's fields, and ours under `depthfold`.
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
    },
  };
}
