// Model bytes: encoding a ModelProto and reading the depthfold metadata back. Browser-safe (no node APIs);
// writing files is in write-model-file.ts.
import { DepthfoldInputError, type ModelMetadata } from '@depthfold/core';
import { propsToMetadata } from './metadata-props.js';
import { decodeModelHeader, encodeModelProto, type ModelHeader, type ModelProto } from './onnx-proto.js';

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
    throw new DepthfoldInputError(source, 'an ONNX model (ModelProto)', `${bytes.length} bytes that do not decode (${reason})`);
  }
  if (!header.graph || header.graph.length === 0) {
    throw new DepthfoldInputError(`${source} graph`, 'an ONNX model (ModelProto) with a graph', undefined);
  }
  return propsToMetadata(header.metadata_props ?? [], source);
}
