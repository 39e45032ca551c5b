// Model bytes: encoding a ModelProto and reading the depthfold metadata back. Browser-safe (no node APIs);
// writing files is in write-model-file.ts.
import { DepthfoldInputError, type ModelMetadata } from '@depthfold/core';
import { propsToMetadata } from './metadata-props.js';
import {
  decodeGraphSignature,
  decodeModelHeader,
  encodeModelProto,
  type ModelHeader,
  type ModelProto,
  type ValueInfoProto,
} from './onnx-proto.js';

/** Serialises a model built by `buildModel` to the bytes of a .onnx file. */
export function encodeModel(model: ModelProto): Uint8Array {
  return encodeModelProto(model);
}

/**
 * Reads the depthfold metadata of an ONNX model without decoding its graph.
 * @param bytes - The .onnx file's content.
 * @param source - Names the model in errors (a path or URL).
 * @throws DepthfoldInputError when the bytes are not an ONNX ModelProto with a graph, when an entry of our metadata
 * is missing (the key is named), or when the metadata fails the schema (the field is named).
 */
export function readModelMetadata(bytes: Uint8Array, source: string): ModelMetadata {
  let header: ModelHeader;
  try {
    header = decodeModelHeader(bytes);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new DepthfoldInputError(
      source,
      'an ONNX model (ModelProto)',
      `${bytes.length} bytes that are not valid ONNX (${reason})`,
    );
  }
  if (!header.graph || header.graph.length === 0) {
    throw new DepthfoldInputError(`${source} graph`, 'an ONNX model (ModelProto) with a graph', undefined);
  }
  return propsToMetadata(header.metadata_props ?? [], source);
}

/** A graph input or output as a reader checks it: name, element type and dims (a number, or a symbolic name). */
export interface TensorSignature {
  name: string;
  /** TensorProto.DataType; 1 is FLOAT. Undefined where the graph does not say. */
  elemType: number | undefined;
  /** Each dim's fixed size, or its symbolic name (`dim_param`, e.g. the batch), or undefined where unknown. */
  dims: (number | string | undefined)[] | undefined;
}

/** The inputs and outputs of a model's graph. */
export interface ModelSignature {
  inputs: TensorSignature[];
  outputs: TensorSignature[];
}

function tensorSignature(info: ValueInfoProto): TensorSignature {
  const tensor = info.type?.tensor_type;
  const dims = tensor?.shape?.dim?.map((d) =>
    d.dim_value !== undefined && d.dim_value !== null ? d.dim_value : d.dim_param || undefined,
  );
  return { name: info.name ?? '', elemType: tensor?.elem_type, dims };
}

/**
 * Reads the inputs and outputs of a model's graph (names, types, dims) without decoding its nodes and weights, so
 * that a reader can check the metadata against the graph before creating a session.
 * @throws DepthfoldInputError when the bytes are not an ONNX ModelProto with a graph that decodes.
 */
export function readModelSignature(bytes: Uint8Array, source: string): ModelSignature {
  let header: ModelHeader;
  try {
    header = decodeModelHeader(bytes);
    if (!header.graph || header.graph.length === 0) throw new Error('no graph');
    const graph = decodeGraphSignature(header.graph);
    return { inputs: (graph.input ?? []).map(tensorSignature), outputs: (graph.output ?? []).map(tensorSignature) };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const invalid = new DepthfoldInputError(
      `${source} graph`,
      'an ONNX model (ModelProto) whose graph decodes',
      `${bytes.length} bytes that are not valid ONNX (${reason})`,
    );
    invalid.cause = error;
    throw invalid;
  }
}
