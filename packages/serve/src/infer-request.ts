// An inference request checked against the served model and turned into one normalised NCHW batch, and the
// logits of that batch turned into the protocol's reply (raw FP32, or Triton's classification strings).
import { DepthfoldInputError, parseWith } from '@depthfold/core';
import type { ModelSpec } from './model-spec.js';
import { INPUT_DATATYPES } from './model-spec.js';
import { inferenceRequestSchema, type InferenceResponse, type Parameters, type ResponseOutput } from './protocol.js';
import { FP32_RULE, readTensorData, UINT8_RULE } from './tensor-data.js';

const CONTEXT = 'inference request';
const NO_BINARY_EXTENSION = 'this server reads and writes JSON tensor data only; the binary tensor data extension is not implemented';

/** One requested output: raw logits, or the top `classification` classes. */
export interface OutputRequest {
  readonly name: string;
  /** Triton's classification extension: the number of classes to return per row. */
  readonly classification?: number;
}

/** A request ready to run. */
export interface DecodedRequest {
  /** The request's `id`, echoed in the reply. */
  readonly id?: string;
  /** The batch size, shape[0]. */
  readonly rows: number;
  /** `rows` images, normalised, NCHW: what the network takes. */
  readonly input: Float32Array;
  readonly outputs: readonly OutputRequest[];
}

/**
 * Checks a parsed JSON body against the model and builds its input batch. FP32 data is taken as the network's
 * normalised input; UINT8 data as raw pixels (0..255, NCHW), normalised here with the model's own statistics.
 * @throws DepthfoldInputError naming the field at fault (answered with 400).
 */
export function decodeInferRequest(body: unknown, spec: ModelSpec): DecodedRequest {
  const request = parseWith(inferenceRequestSchema, body, CONTEXT);
  refuseBinary(request.parameters, 'binary_data_output', 'parameters');
  const { channels, height, width } = spec.input;
  const inputs = request.inputs;
  inputs.forEach((input, i) => {
    if (input.name !== spec.inputName) {
      throw new DepthfoldInputError(`inputs[${i}].name`, `${JSON.stringify(spec.inputName)} (the model's only input)`, input.name, CONTEXT);
    }
    if (i > 0) throw new DepthfoldInputError(`inputs[${i}].name`, `each input once (${JSON.stringify(spec.inputName)} is already inputs[0])`, input.name, CONTEXT);
  });
  const [input] = inputs as [(typeof inputs)[number]];
  if (input.parameters?.binary_data_size !== undefined) {
    throw new DepthfoldInputError('inputs[0].parameters.binary_data_size', `absent (${NO_BINARY_EXTENSION})`, input.parameters.binary_data_size, CONTEXT);
  }
  if (!INPUT_DATATYPES.includes(input.datatype)) {
    throw new DepthfoldInputError('inputs[0].datatype', '"FP32" (normalised NCHW input) or "UINT8" (raw NCHW pixels, 0..255)', input.datatype, CONTEXT);
  }
  const { shape } = input;
  const [rows = 0, c, h, w] = shape;
  if (shape.length !== 4 || c !== channels || h !== height || w !== width || rows < 1 || rows > spec.maxBatch) {
    throw new DepthfoldInputError('inputs[0].shape', `[N, ${channels}, ${height}, ${width}] with N from 1 to ${spec.maxBatch} (the max batch size)`, shape, CONTEXT);
  }
  const shapeText = `[${shape.join(', ')}]`;
  const raw = input.datatype === 'UINT8';
  const data = readTensorData(input.data, rows * channels * height * width, raw ? UINT8_RULE : FP32_RULE, 'inputs[0].data', shapeText);
  if (raw) normalizeInPlace(data, spec);
  return { ...(request.id === undefined ? {} : { id: request.id }), rows, input: data, outputs: decodeOutputs(request.outputs, spec) };
}

function refuseBinary(parameters: Parameters | undefined, key: string, field: string): void {
  const value = parameters?.[key];
  if (value !== undefined && value !== false) {
    throw new DepthfoldInputError(`${field}.${key}`, `false or absent (${NO_BINARY_EXTENSION})`, value, CONTEXT);
  }
}

function decodeOutputs(outputs: { name: string; parameters?: Parameters | undefined }[] | undefined, spec: ModelSpec): OutputRequest[] {
  // The protocol: without `outputs`, every output of the model, raw.
  if (outputs === undefined) return [{ name: spec.outputName }];
  const classes = spec.labels.length;
  return outputs.map((output, i) => {
    if (output.name !== spec.outputName) {
      throw new DepthfoldInputError(`outputs[${i}].name`, `${JSON.stringify(spec.outputName)} (the model's only output)`, output.name, CONTEXT);
    }
    if (i > 0) throw new DepthfoldInputError(`outputs[${i}].name`, `each output once (${JSON.stringify(spec.outputName)} is already outputs[0])`, output.name, CONTEXT);
    refuseBinary(output.parameters, 'binary_data', `outputs[${i}].parameters`);
    const k = output.parameters?.classification;
    if (k === undefined) return { name: output.name };
    if (typeof k !== 'number' || !Number.isInteger(k) || k < 1 || k > classes) {
      throw new DepthfoldInputError(`outputs[${i}].parameters.classification`, `an integer from 1 to ${classes} (the number of classes)`, k, CONTEXT);
    }
    return { name: output.name, classification: k };
  });
}

// x = (pixel / 255 - mean[c]) / std[c] written as pixel * a + b, as @depthfold/infer computes it, so that UINT8
// requests give exactly the logits of `classify` on the same pixels.
function normalizeInPlace(data: Float32Array, spec: ModelSpec): void {
  const { channels, height, width } = spec.input;
  const plane = height * width;
  const { mean, std } = spec.normalization;
  for (let base = 0; base < data.length; base += channels * plane) {
    for (let c = 0; c < channels; c++) {
      const a = 1 / (255 * std[c]!);
      const b = -mean[c]! / std[c]!;
      const start = base + c * plane;
      for (let k = start; k < start + plane; k++) data[k] = data[k]! * a + b;
    }
  }
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

/** The reply to a request whose batch gave `logits` (`rows * classes` values). */
export function encodeInferResponse(spec: ModelSpec, request: DecodedRequest, logits: Float32Array): InferenceResponse {
  const classes = spec.labels.length;
  const outputs: ResponseOutput[] = request.outputs.map((output) => {
    if (output.classification === undefined) {
      return { name: output.name, datatype: 'FP32', shape: [request.rows, classes], data: Array.from(logits, float32Json) };
    }
    const k = output.classification;
    const data: string[] = [];
    for (let r = 0; r < request.rows; r++) data.push(...classifyRow(logits.subarray(r * classes, (r + 1) * classes), spec.labels, k));
    return { name: output.name, datatype: 'BYTES', shape: [request.rows, k], data };
  });
  return { model_name: spec.name, model_version: spec.version, ...(request.id === undefined ? {} : { id: request.id }), outputs };
}
