// An inference request checked against the served model and turned into one normalised NCHW batch (or, for a BYTES
// input, into the encoded images that image-decoder.ts makes that batch of), and the logits of that batch turned into
// the protocol's reply (raw FP32, or Triton's classification strings), with tensor data as JSON or as binary bytes
// after the JSON header (Triton's binary tensor data extension).
import { DepthfoldInputError, parseWith } from '@depthfold/core';
import { normalizePixelsInPlace } from '@depthfold/infer/node';
import { binaryDataSize, encodeBytesElements, float32Of, HEADER_LENGTH_HEADER } from './binary-data.js';
import type { ImageDecoder } from './image-decoder.js';
import { type EncodedImages, imageRowsOf, imagesFromBinary, imagesFromData } from './image-input.js';
import type { ModelSpec } from './model-spec.js';
import { INPUT_DATATYPES } from './model-spec.js';
import { inferenceRequestSchema, type InferenceResponse, type Parameters, type ResponseOutput } from './protocol.js';
import { FP32_RULE, readTensorData, UINT8_RULE } from './tensor-data.js';

const CONTEXT = 'inference request';

/** One requested output: raw logits, or the top `classification` classes. */
export interface OutputRequest {
  readonly name: string;
  /** Triton's classification extension: the number of classes to return per row. */
  readonly classification?: number;
  /** Its bytes follow the JSON header (the binary tensor data extension) instead of JSON `data`. */
  readonly binary?: boolean;
}

/** A request ready to run. */
export interface DecodedRequest {
  /** The request's `id`, echoed in the reply. */
  readonly id?: string;
  /** The batch size, shape[0]. */
  readonly rows: number;
  /** `rows` images, normalised, NCHW: what the network takes. */
  readonly input: Float32Array;
  readonly images?: undefined;
  readonly outputs: readonly OutputRequest[];
}

/** A request whose input is encoded images (a BYTES input), checked, to decode before it can run. */
export interface ImageRequest {
  readonly id?: string;
  /** The batch size: one image per row. */
  readonly rows: number;
  readonly input?: undefined;
  /** The rows' encoded images, and what errors call each. */
  readonly images: EncodedImages;
  readonly outputs: readonly OutputRequest[];
}

/** A request checked against the model: ready to run, or with images to decode first ({@link prepareRequest}). */
export type ParsedRequest = DecodedRequest | ImageRequest;

/** What errors call the input's data and its binary size: the names of the protocol that carried them. */
export interface TensorFields {
  /**
   * The input's typed data, e.g. `inputs[0].data` (HTTP), `inputs[0].contents.fp32_contents` or
   * `inputs[0].contents.bytes_contents` (gRPC).
   */
  readonly data: string;
  /** The input's binary size, e.g. `inputs[0].parameters.binary_data_size` (HTTP) or `raw_input_contents[0]` (gRPC). */
  readonly binarySize: string;
  /** The input's binary bytes, whose elements a BYTES input's errors name: `inputs[0] binary data` (HTTP). */
  readonly binaryData?: string;
}

const HTTP_FIELDS: TensorFields = {
  data: 'inputs[0].data',
  binarySize: 'inputs[0].parameters.binary_data_size',
  binaryData: 'inputs[0] binary data',
};

/**
 * An inference request whose fields have their protocol types (strings, integer shapes, parameter values): a JSON
 * body after the protocol's schema, or a gRPC message as protobuf decoded it. What remains to check is the model's.
 */
export interface TypedInferRequest {
  readonly id?: string | undefined;
  readonly parameters?: Parameters | undefined;
  readonly inputs: readonly {
    readonly name: string;
    readonly shape: readonly number[];
    /** Any string: one the model does not take is refused by name, whether or not the protocol knows it. */
    readonly datatype: string;
    readonly parameters?: Parameters | undefined;
    readonly data?: unknown[] | undefined;
  }[];
  readonly outputs?: readonly { readonly name: string; readonly parameters?: Parameters | undefined }[] | undefined;
}

/**
 * Checks a parsed JSON body against the protocol's schema and the model, and builds its input batch. FP32 data is
 * taken as the network's normalised input; UINT8 data as raw pixels (0..255, NCHW), normalised here with the
 * model's own statistics; BYTES data as one encoded image per row (base64 strings in JSON, declared by
 * `parameters.content_type: "base64"`; length-prefixed elements in binary data), checked and split here, decoded by
 * {@link prepareRequest}.
 * @param binary - The bytes after the JSON header of a binary request (absent for a JSON-only body): the data of
 *   each input that declares `parameters.binary_data_size`, in order, and nothing else.
 * @throws DepthfoldInputError naming the field at fault (answered with 400).
 */
export function decodeInferRequest(
  body: unknown,
  spec: ModelSpec,
  binary?: Uint8Array,
  fields: TensorFields = HTTP_FIELDS,
): ParsedRequest {
  return decodeTypedInferRequest(parseWith(inferenceRequestSchema, body, CONTEXT), spec, binary, fields);
}

/**
 * {@link decodeInferRequest} for a request whose types are already the protocol's (a decoded gRPC message): the
 * same checks against the model, without the schema pass that protobuf's types make redundant.
 * @throws DepthfoldInputError naming the field at fault.
 */
export function decodeTypedInferRequest(
  request: TypedInferRequest,
  spec: ModelSpec,
  binary?: Uint8Array,
  fields: TensorFields = HTTP_FIELDS,
): ParsedRequest {
  const binaryOutput = booleanParameter(request.parameters, 'binary_data_output', 'parameters') ?? false;
  const { channels, height, width } = spec.input;
  const inputs = request.inputs;
  inputs.forEach((input, i) => {
    if (input.name !== spec.inputName) {
      throw new DepthfoldInputError(
        `inputs[${i}].name`,
        `${JSON.stringify(spec.inputName)} (the model's only input)`,
        input.name,
        CONTEXT,
      );
    }
    if (i > 0)
      throw new DepthfoldInputError(
        `inputs[${i}].name`,
        `each input once (${JSON.stringify(spec.inputName)} is already inputs[0])`,
        input.name,
        CONTEXT,
      );
  });
  const [input] = inputs;
  if (input === undefined) throw new DepthfoldInputError('inputs', 'at least one input tensor', [], CONTEXT);
  if (!(INPUT_DATATYPES as readonly string[]).includes(input.datatype)) {
    throw new DepthfoldInputError(
      'inputs[0].datatype',
      '"FP32" (normalised NCHW input), "UINT8" (raw NCHW pixels, 0..255) or "BYTES" (one encoded image per row)',
      input.datatype,
      CONTEXT,
    );
  }
  const outputs = () => decodeOutputs(request.outputs, spec, binaryOutput);
  if (input.datatype === 'BYTES') {
    const images = decodeImageInput(input, spec, binary, fields);
    return {
      ...(request.id === undefined ? {} : { id: request.id }),
      rows: images.rows.length,
      images,
      outputs: outputs(),
    };
  }
  const { shape } = input;
  const [rows = 0, c, h, w] = shape;
  if (shape.length !== 4 || c !== channels || h !== height || w !== width || rows < 1 || rows > spec.maxBatch) {
    throw new DepthfoldInputError(
      'inputs[0].shape',
      `[N, ${channels}, ${height}, ${width}] with N from 1 to ${spec.maxBatch} (the max batch size)`,
      shape,
      CONTEXT,
    );
  }
  const shapeText = `[${shape.join(', ')}]`;
  const raw = input.datatype === 'UINT8';
  const count = rows * channels * height * width;
  const size = binaryDataSize(input.parameters?.binary_data_size, 'inputs[0].parameters.binary_data_size');
  let data: Float32Array;
  if (size === undefined) {
    if (input.data === undefined)
      throw new DepthfoldInputError(
        'inputs[0].data',
        'tensor data (a JSON array), or parameters.binary_data_size with the bytes after the JSON header',
        undefined,
        CONTEXT,
      );
    if (binary !== undefined && binary.length > 0) throw binaryLengthError(0, binary.length);
    data = readTensorData(input.data, count, raw ? UINT8_RULE : FP32_RULE, fields.data, shapeText, shape);
  } else {
    data = readBinaryTensor(binaryBodyOf(binary, size, input.data), size, count, raw, shapeText, fields.binarySize);
  }
  // infer's own normalisation, so that UINT8 requests give exactly the logits of `classify` on the same pixels.
  if (raw) normalizePixelsInPlace(data, spec.input, spec.normalization);
  return {
    ...(request.id === undefined ? {} : { id: request.id }),
    rows,
    input: data,
    outputs: outputs(),
  };
}

/**
 * The binary part of a body whose input gives `binary_data_size`: there must be one, and no JSON data beside it.
 * @throws DepthfoldInputError naming the field at fault.
 */
function binaryBodyOf(binary: Uint8Array | undefined, size: number, data: unknown): Uint8Array {
  if (binary === undefined)
    throw new DepthfoldInputError(
      'inputs[0].parameters.binary_data_size',
      `absent in a JSON-only body (binary data needs the ${HEADER_LENGTH_HEADER} header)`,
      size,
      CONTEXT,
    );
  if (data !== undefined)
    throw new DepthfoldInputError(
      'inputs[0].data',
      'absent when parameters.binary_data_size is given (the data is binary)',
      'JSON data as well',
      CONTEXT,
    );
  return binary;
}

/**
 * The images of a BYTES input: its shape `[N]` or `[N, 1]`, then its elements from JSON data or binary bytes, one
 * per row. Nothing is decoded here.
 * @throws DepthfoldInputError naming the field at fault.
 */
function decodeImageInput(
  input: TypedInferRequest['inputs'][number],
  spec: ModelSpec,
  binary: Uint8Array | undefined,
  fields: TensorFields,
): EncodedImages {
  const rows = imageRowsOf(input.shape, spec.maxBatch);
  const size = binaryDataSize(input.parameters?.binary_data_size, 'inputs[0].parameters.binary_data_size');
  if (size === undefined) {
    if (input.data === undefined)
      throw new DepthfoldInputError(
        'inputs[0].data',
        'one base64 string per image (with parameters.content_type "base64"), or parameters.binary_data_size with the images after the JSON header',
        undefined,
        CONTEXT,
      );
    if (binary !== undefined && binary.length > 0) throw binaryLengthError(0, binary.length);
    return imagesFromData(input.data, input.shape, input.parameters, fields.data);
  }
  const body = binaryBodyOf(binary, size, input.data);
  if (body.length !== size) throw binaryLengthError(size, body.length);
  return imagesFromBinary(body, rows, fields.binaryData ?? fields.binarySize);
}

/**
 * A parsed request ready to run: a tensor request as it is; a request of images with each decoded (on `decoder`'s
 * threads) with the model's preprocessing and normalised, as the network's input.
 * @throws ImageRowError (400) naming the row of an image that cannot be used; what {@link ImageDecoder.decode} throws.
 */
export async function prepareRequest(
  request: ParsedRequest,
  spec: ModelSpec,
  decoder: ImageDecoder,
): Promise<DecodedRequest> {
  if (request.images === undefined) return request;
  const { images, ...rest } = request;
  return { ...rest, input: await decoder.decode(images, spec) };
}

function binaryLengthError(expected: number, received: number): DepthfoldInputError {
  return new DepthfoldInputError(
    'binary tensor data',
    `${expected} bytes after the JSON header (the sum of the inputs' binary_data_size)`,
    received,
    CONTEXT,
  );
}

/**
 * One input's data from its binary bytes: the declared size must be what the shape and datatype need, and the
 * bytes after the header exactly that size, both checked before anything is allocated.
 */
function readBinaryTensor(
  binary: Uint8Array,
  size: number,
  count: number,
  raw: boolean,
  shapeText: string,
  field: string,
): Float32Array {
  const expected = count * (raw ? 1 : 4);
  if (size !== expected) {
    throw new DepthfoldInputError(
      field,
      `${expected} bytes (shape ${shapeText}, ${raw ? 'UINT8, 1 byte' : 'FP32, 4 bytes'} per element)`,
      size,
      CONTEXT,
    );
  }
  if (binary.length !== size) throw binaryLengthError(size, binary.length);
  if (raw) return Float32Array.from(binary);
  const data = float32Of(binary);
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i]!))
      throw new DepthfoldInputError(`inputs[0] binary data element ${i}`, FP32_RULE.expected, String(data[i]), CONTEXT);
  }
  return data;
}

// The extension's switches are booleans; anything else is a mistake worth naming rather than a truthy guess.
function booleanParameter(parameters: Parameters | undefined, key: string, field: string): boolean | undefined {
  const value = parameters?.[key];
  if (value === undefined || typeof value === 'boolean') return value;
  throw new DepthfoldInputError(`${field}.${key}`, 'true or false', value, CONTEXT);
}

function decodeOutputs(outputs: TypedInferRequest['outputs'], spec: ModelSpec, binaryOutput: boolean): OutputRequest[] {
  // The protocol: without `outputs`, every output of the model, raw.
  if (outputs === undefined) return [{ name: spec.outputName, ...(binaryOutput ? { binary: true } : {}) }];
  const classes = spec.labels.length;
  return outputs.map((output, i) => {
    if (output.name !== spec.outputName) {
      throw new DepthfoldInputError(
        `outputs[${i}].name`,
        `${JSON.stringify(spec.outputName)} (the model's only output)`,
        output.name,
        CONTEXT,
      );
    }
    if (i > 0)
      throw new DepthfoldInputError(
        `outputs[${i}].name`,
        `each output once (${JSON.stringify(spec.outputName)} is already outputs[0])`,
        output.name,
        CONTEXT,
      );
    // An output's own `binary_data` wins over the request's `binary_data_output`.
    const binary = booleanParameter(output.parameters, 'binary_data', `outputs[${i}].parameters`) ?? binaryOutput;
    const base = { name: output.name, ...(binary ? { binary: true } : {}) };
    const k = output.parameters?.classification;
    if (k === undefined) return base;
    if (typeof k !== 'number' || !Number.isInteger(k) || k < 1) {
      throw new DepthfoldInputError(
        `outputs[${i}].parameters.classification`,
        `an integer >= 1 (from ${classes}, the number of classes, up, every class is returned)`,
        k,
        CONTEXT,
      );
    }
    // Triton's classification returns every class when asked for more than there are.
    return { ...base, classification: Math.min(k, classes) };
  });
}

// Nine significant digits identify every float32 exactly and are about half as long as a double's repr.
function float32Json(value: number): number {
  return Number(value.toPrecision(9));
}

/** Triton's classification strings for one row: `"<value>:<index>:<label>"`, highest value first, ties by index. */
export function classifyRow(logits: Float32Array, labels: readonly string[], k: number): string[] {
  const order = Array.from({ length: logits.length }, (_, i) => i);
  order.sort((a, b) => logits[b]! - logits[a]! || a - b);
  return order.slice(0, k).map((i) => `${float32Json(logits[i]!)}:${i}:${labels[i]}`);
}

/**
 * Refuses a result that is not finite: a 200 always carries finite numbers. Finite FP32 input can still overflow
 * in the network (784 values of 3.4e38 give infinite, then NaN, logits), so the check is on what came out.
 * @throws DepthfoldInputError naming the input (answered with 400).
 */
export function assertFiniteLogits(logits: Float32Array, classes: number): void {
  for (let i = 0; i < logits.length; i++) {
    if (!Number.isFinite(logits[i]!)) {
      throw new DepthfoldInputError(
        'inputs[0].data',
        'values for which the model gives finite logits (FP32 input is the normalised image, typically within +-10)',
        `values that give ${String(logits[i])} in row ${Math.floor(i / classes)}`,
        CONTEXT,
      );
    }
  }
}

/** A reply: the JSON response, and the bytes of its binary outputs in order (empty when every output is JSON). */
export interface EncodedReply {
  readonly response: InferenceResponse;
  readonly binary: readonly Buffer[];
}

/** One output's tensor, before it is written as JSON or binary. */
export interface OutputTensor {
  readonly name: string;
  readonly datatype: 'FP32' | 'BYTES';
  readonly shape: number[];
  /** FP32 logits, or classification strings. */
  readonly values: Float32Array | string[];
}

/** The output tensors of a request whose batch gave `logits` (`rows * classes` values), as requested. */
export function outputTensors(spec: ModelSpec, request: ParsedRequest, logits: Float32Array): OutputTensor[] {
  const classes = spec.labels.length;
  return request.outputs.map((output) => {
    if (output.classification === undefined)
      return { name: output.name, datatype: 'FP32', shape: [request.rows, classes], values: logits };
    const k = output.classification;
    const values: string[] = [];
    for (let r = 0; r < request.rows; r++)
      values.push(...classifyRow(logits.subarray(r * classes, (r + 1) * classes), spec.labels, k));
    return { name: output.name, datatype: 'BYTES', shape: [request.rows, k], values };
  });
}

/** A tensor's bytes as the binary extension (and gRPC's raw contents) lay them out. */
export function tensorBytes(tensor: OutputTensor): Buffer {
  const { values } = tensor;
  return values instanceof Float32Array
    ? Buffer.from(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength))
    : encodeBytesElements(values);
}

/** The reply to a request whose batch gave `logits`, with each output as JSON data or binary bytes as it asked. */
export function encodeInferReply(spec: ModelSpec, request: ParsedRequest, logits: Float32Array): EncodedReply {
  const binary: Buffer[] = [];
  const tensors = outputTensors(spec, request, logits);
  const outputs: ResponseOutput[] = tensors.map((tensor, i) => {
    const { name, datatype, shape, values } = tensor;
    if (request.outputs[i]!.binary) {
      const bytes = tensorBytes(tensor);
      binary.push(bytes);
      return { name, datatype, shape, parameters: { binary_data_size: bytes.length } };
    }
    return { name, datatype, shape, data: values instanceof Float32Array ? Array.from(values, float32Json) : values };
  });
  return {
    response: {
      model_name: spec.name,
      model_version: spec.version,
      ...(request.id === undefined ? {} : { id: request.id }),
      outputs,
    },
    binary,
  };
}

/** The JSON reply to a request whose batch gave `logits` (`rows * classes` values); binary outputs carry their size only. */
export function encodeInferResponse(spec: ModelSpec, request: ParsedRequest, logits: Float32Array): InferenceResponse {
  return encodeInferReply(spec, request, logits).response;
}
