// onnx's own tests build models from src/, not from the built package: @depthfold/testing's model fixtures with
// this package's writer passed in (testing cannot depend on onnx, whose tests depend on it).
import type { Checkpoint, ModelMetadata } from '@depthfold/core';
import { type ModelWriter, metadataFor as metadataWith } from '@depthfold/testing';
import { buildModel } from '../src/graph.js';
import { integrityPayload } from '../src/integrity.js';
import { encodeModel } from '../src/model-file.js';
import { modelMetadata } from '../src/model-metadata.js';
import type { ModelProto } from '../src/onnx-proto.js';

/** The writer of src/, for @depthfold/testing's model fixtures. */
export const SOURCE_WRITER: ModelWriter<ModelProto> = { buildModel, encodeModel, integrityPayload, modelMetadata };

/** The metadata an export of `checkpoint` writes, digest included, computed with src/'s writer. */
export function metadataFor(checkpoint: Checkpoint, folded: boolean): ModelMetadata {
  return metadataWith(SOURCE_WRITER, checkpoint, folded);
}
