// The gRPC service's messages (proto/grpc_predict_v2.proto, as @grpc/proto-loader decodes them with keepCase,
// longs as numbers and oneofs named) and their conversion to and from the REST side's request and reply, so
// that gRPC goes through the same checks against the model as HTTP: raw_input_contents become binary tensor data,
// typed contents become JSON data (a BYTES input's `bytes_contents`, one image per element, become its elements as
// they are: no base64 here). Protobuf has already typed every field, so the REST schema's pass is skipped.
import { DepthfoldInputError } from '@depthfold/core';
import {
  decodeTypedInferRequest,
  outputTensors,
  type ParsedRequest,
  type TypedInferRequest,
  tensorBytes,
} from './infer-request.js';
import type { ModelSpec } from './model-spec.js';
import type { Parameters } from './protocol.js';

/** `InferParameter`: one of a bool, an int64 or a string, and which (`parameter_choice`). */
export interface InferParameter {
  parameter_choice?: 'bool_param' | 'int64_param' | 'string_param';
  bool_param?: boolean;
  int64_param?: number;
  string_param?: string;
}

/** `InferTensorContents`: typed data, one repeated field per family of datatypes. */
export interface InferTensorContents {
  bool_contents?: boolean[];
  int_contents?: number[];
  int64_contents?: number[];
  uint_contents?: number[];
  uint64_contents?: number[];
  fp32_contents?: number[];
  fp64_contents?: number[];
  bytes_contents?: Buffer[];
}

/** `ModelInferRequest`. */
export interface ModelInferRequest {
  model_name: string;
  model_version: string;
  id: string;
  parameters: Record<string, InferParameter>;
  inputs: {
    name: string;
    datatype: string;
    shape: number[];
    parameters: Record<string, InferParameter>;
    contents: InferTensorContents | null;
  }[];
  outputs: { name: string; parameters: Record<string, InferParameter> }[];
  raw_input_contents: Buffer[];
}

/** `ModelInferResponse`, as handed to @grpc/grpc-js to encode. */
export interface ModelInferResponse {
  model_name: string;
  model_version: string;
  id: string;
  outputs: { name: string; datatype: string; shape: number[] }[];
  raw_output_contents: Buffer[];
}

const CONTEXT = 'inference request';

// The contents field each datatype the model takes is carried in.
const CONTENTS_FIELD: Readonly<Record<string, keyof InferTensorContents>> = {
  FP32: 'fp32_contents',
  UINT8: 'uint_contents',
  BYTES: 'bytes_contents',
};

/** A protobuf parameter map as the REST side's parameters; undefined when it is empty. */
export function parametersOf(map: Record<string, InferParameter> | undefined): Parameters | undefined {
  const entries = Object.entries(map ?? {});
  if (entries.length === 0) return undefined;
  const out: Parameters = {};
  for (const [key, p] of entries) {
    const choice = p.parameter_choice;
    if (choice !== undefined && p[choice] !== undefined) out[key] = p[choice]!;
  }
  return out;
}

/**
 * A ModelInferRequest checked against the model, through the same decoding as a REST request; a BYTES input's
 * images are decoded afterwards, by `prepareRequest`.
 * @throws DepthfoldInputError naming the field (INVALID_ARGUMENT).
 */
export function decodeGrpcInferRequest(message: ModelInferRequest, spec: ModelSpec): ParsedRequest {
  const raw = message.raw_input_contents ?? [];
  if (raw.length > 0 && raw.length !== message.inputs.length) {
    throw new DepthfoldInputError(
      'raw_input_contents',
      `one entry per input (${message.inputs.length})`,
      `${raw.length} entries`,
      CONTEXT,
    );
  }
  const inputs = message.inputs.map((input, i) => {
    const parameters = parametersOf(input.parameters);
    const base = { name: input.name, shape: input.shape, datatype: input.datatype };
    const contents = input.contents;
    const typed = contents
      ? (Object.keys(contents) as (keyof InferTensorContents)[]).filter((k) => (contents[k]?.length ?? 0) > 0)
      : [];
    if (raw.length > 0) {
      if (typed.length > 0)
        throw new DepthfoldInputError(
          `inputs[${i}].contents`,
          'absent when raw_input_contents is used',
          typed.join(', '),
          CONTEXT,
        );
      return { ...base, parameters: { ...parameters, binary_data_size: raw[i]!.length } };
    }
    const field = CONTENTS_FIELD[input.datatype];
    const stray = typed.filter((k) => k !== field);
    if (stray.length > 0) {
      throw new DepthfoldInputError(
        `inputs[${i}].contents`,
        field ? `${field} for ${input.datatype} data` : 'the contents field of the input datatype',
        stray.join(', '),
        CONTEXT,
      );
    }
    return {
      ...base,
      ...(parameters ? { parameters } : {}),
      data: field ? ((contents?.[field] as unknown[] | undefined) ?? []) : [],
    };
  });
  const outputs = message.outputs.map((o) => {
    const parameters = parametersOf(o.parameters);
    return { name: o.name, ...(parameters ? { parameters } : {}) };
  });
  const request: TypedInferRequest = {
    ...(message.id ? { id: message.id } : {}),
    inputs,
    ...(outputs.length > 0 ? { outputs } : {}),
  };
  const datatype = message.inputs[0]?.datatype ?? 'FP32';
  const fields = {
    data: `inputs[0].contents.${CONTENTS_FIELD[datatype] ?? 'fp32_contents'}`,
    binarySize: 'raw_input_contents[0]',
  };
  // One input (the model's only one) needs no copy into a joined buffer.
  const binary = raw.length === 0 ? undefined : raw.length === 1 ? raw[0] : Buffer.concat(raw);
  return decodeTypedInferRequest(request, spec, binary, fields);
}

/** The ModelInferResponse of a request whose batch gave `logits`: every output in raw_output_contents, as Triton answers. */
export function encodeGrpcInferResponse(
  spec: ModelSpec,
  request: ParsedRequest,
  logits: Float32Array,
): ModelInferResponse {
  const tensors = outputTensors(spec, request, logits);
  return {
    model_name: spec.name,
    model_version: spec.version,
    id: request.id ?? '',
    outputs: tensors.map(({ name, datatype, shape }) => ({ name, datatype, shape })),
    raw_output_contents: tensors.map(tensorBytes),
  };
}
