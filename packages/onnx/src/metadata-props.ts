// ModelMetadata <-> ONNX metadata_props: one entry per top-level field, key = field name, value = JSON.
import {
  DepthfoldInputError,
  MODEL_METADATA_KEYS,
  modelMetadataSchema,
  parseModelMetadata,
  parseWith,
  type ModelMetadata,
} from '@depthfold/core';
import type { StringStringEntryProto } from './onnx-proto.js';

/** The metadata_props keys depthfold writes, in order. */
export const METADATA_KEYS: readonly (keyof ModelMetadata)[] = MODEL_METADATA_KEYS;

// Keys a model may lack: provenance, and `integrity`, which models exported before it existed do not have. (A
// format-1 model lacking one that its format required is refused by that format's schema.)
const OPTIONAL_KEYS: ReadonlySet<string> = new Set(
  METADATA_KEYS.filter((key) => modelMetadataSchema.shape[key].safeParse(undefined).success),
);

/** Validates `metadata` and renders it as metadata_props entries; an optional field that is absent is not written. */
export function metadataToProps(metadata: ModelMetadata): StringStringEntryProto[] {
  const valid = parseWith(modelMetadataSchema, metadata, 'model metadata');
  return METADATA_KEYS.filter((key) => valid[key] !== undefined).map((key) => ({
    key,
    value: JSON.stringify(valid[key]),
  }));
}

/**
 * Reads and validates the metadata from metadata_props entries; entries of other tools are ignored.
 * @param source - Names the model in errors.
 * @throws DepthfoldInputError naming the missing key, the unparseable entry or the field failing the schema.
 */
export function propsToMetadata(props: readonly StringStringEntryProto[], source: string): ModelMetadata {
  const entries = new Map(props.map((p) => [p.key ?? '', p.value ?? '']));
  const raw: Record<string, unknown> = {};
  for (const key of METADATA_KEYS) {
    const text = entries.get(key);
    if (text === undefined) {
      if (OPTIONAL_KEYS.has(key)) continue;
      throw new DepthfoldInputError(
        `metadata_props.${key}`,
        'a depthfold metadata entry (the model was not exported by depthfold?)',
        undefined,
        `model ${source}`,
      );
    }
    try {
      raw[key] = JSON.parse(text);
    } catch {
      throw new DepthfoldInputError(`metadata_props.${key}`, 'JSON', text, `model ${source}`);
    }
  }
  return parseModelMetadata(raw, `model ${source}`);
}
