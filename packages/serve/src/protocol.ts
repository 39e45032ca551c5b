// The KServe V2 REST messages (the Open Inference Protocol, as NVIDIA Triton speaks it): request schemas and
// response shapes. Spec: kserve/kserve docs/predict-api/v2/required_api.md; the classification extension:
// triton-inference-server/server docs/protocol/extension_classification.md.
import type { Preprocessing } from '@depthfold/core';
import { z } from 'zod';

/** The protocol's tensor datatypes (BF16 is Triton's addition). */
export const V2_DATATYPES = [
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BYTES',
  'BF16',
] as const;

/** A V2 tensor datatype. */
export type V2Datatype = (typeof V2_DATATYPES)[number];

/** The platform name Triton gives ONNX Runtime models. */
export const PLATFORM = 'onnxruntime_onnx';

/** Extensions this server implements, as `GET /v2` lists them (Triton's names). */
export const EXTENSIONS: readonly string[] = [
  'classification',
  'binary_tensor_data',
  'statistics',
  'model_repository',
  'model_repository(unload_dependents)',
  'model_configuration',
];

/** `$parameters`: names mapped to a string, number or boolean. */
export const parametersSchema = z.record(
  z.string(),
  z.union([z.string(), z.number(), z.boolean()], { error: 'a parameter value (a string, number or boolean)' }),
  {
    error: 'an object of parameters, each a string, number or boolean',
  },
);

/** Request, input or output parameters. */
export type Parameters = z.output<typeof parametersSchema>;

const dimension = z
  .number({ error: 'a dimension (an integer >= 0)' })
  .int({ error: 'a dimension (an integer >= 0)' })
  .min(0, { error: 'a dimension (an integer >= 0)' });

// Unknown keys are dropped rather than refused: later protocol revisions and clients add fields.
/** `$request_input`. The data's elements are checked against the model's datatype later, in one pass. */
export const requestInputSchema = z.object({
  name: z.string({ error: 'the input name (a string)' }),
  shape: z.array(dimension, { error: 'an array of dimensions' }),
  datatype: z.enum(V2_DATATYPES, { error: `a V2 datatype (${V2_DATATYPES.join(', ')})` }),
  parameters: parametersSchema.optional(),
  // Only "an array" here: zod would visit every element, and readTensorData checks each against the datatype.
  // Absent when the tensor's bytes follow the JSON header (the binary tensor data extension).
  data: z
    .custom<unknown[]>((v) => Array.isArray(v), { error: 'tensor data (a JSON array, flat or nested)' })
    .optional(),
});

/** `$request_output`. */
export const requestOutputSchema = z.object({
  name: z.string({ error: 'the output name (a string)' }),
  parameters: parametersSchema.optional(),
});

/** `$inference_request`. */
export const inferenceRequestSchema = z.object(
  {
    id: z.string({ error: 'a string' }).optional(),
    parameters: parametersSchema.optional(),
    inputs: z
      .array(requestInputSchema, { error: 'an array of input tensors' })
      .min(1, { error: 'at least one input tensor' }),
    outputs: z.array(requestOutputSchema, { error: 'an array of requested outputs' }).optional(),
  },
  { error: 'an inference request object ({"inputs": [...]})' },
);

/** A parsed `$inference_request`. */
export type InferenceRequest = z.output<typeof inferenceRequestSchema>;

/** `$metadata_tensor`. */
export interface MetadataTensor {
  name: string;
  datatype: V2Datatype;
  /** -1 marks a variable dimension. */
  shape: number[];
}

/** `$metadata_server_response`. */
export interface ServerMetadata {
  name: string;
  version: string;
  extensions: string[];
}

/** What a served model takes and gives beyond the protocol's fields; under `depthfold` in the model metadata. */
export interface DepthfoldModelExtension {
  /** Class names by index, as classification labels them. */
  labels: string[];
  /**
   * Datatypes the input accepts: FP32 (normalised NCHW, what the network takes), UINT8 (raw pixels, NCHW) and BYTES
   * (one encoded image per row).
   */
  input_datatypes: V2Datatype[];
  /** Applied by the server to UINT8 input and decoded images: x = (pixel / 255 - mean[c]) / std[c]. */
  normalization: { mean: number[]; std: number[] };
  /** The largest batch (shape[0]) one request may carry. */
  max_batch_size: number;
  /** What a BYTES input takes, and how its images become the network's input. */
  images: DepthfoldImageInput;
}

/** The BYTES form of the input: one encoded image per batch row. */
export interface DepthfoldImageInput {
  /** `[-1, 1]`: one element per row; `[N]` is accepted too. */
  shape: number[];
  /** Formats decoded, by signature: png, jpeg, webp, gif (first frame), tiff (first page). */
  formats: string[];
  /** The largest width x height decoded; larger images are refused before decoding (`--max-image-pixels`). */
  max_pixels: number;
  /** The model's recorded preprocessing (alpha background, colour, resize), applied before `normalization`. */
  preprocessing: Preprocessing;
}

/** `$metadata_model_response`, with our extension field. */
export interface ModelMetadataResponse {
  name: string;
  versions: string[];
  platform: string;
  inputs: MetadataTensor[];
  outputs: MetadataTensor[];
  depthfold: DepthfoldModelExtension;
}

/** `$response_output`: JSON `data`, or `parameters.binary_data_size` when its bytes follow the JSON header. */
export interface ResponseOutput {
  name: string;
  datatype: V2Datatype;
  shape: number[];
  parameters?: { binary_data_size: number };
  data?: number[] | string[];
}

/** `$inference_response`. */
export interface InferenceResponse {
  model_name: string;
  model_version: string;
  id?: string;
  outputs: ResponseOutput[];
}
