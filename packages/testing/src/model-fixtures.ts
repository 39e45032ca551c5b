// The metadata and bytes of models built from test checkpoints. The ONNX writer is passed in rather than imported:
// @depthfold/onnx's own tests use this package, so depending on onnx here would make a cycle that turbo refuses.
// onnx's tests pass their src functions; every other package passes `import * as onnx from '@depthfold/onnx'`.
import { createHash } from 'node:crypto';
import { type Checkpoint, encodeCheckpoint, type ModelMetadata } from '@depthfold/core';

/** The parts of @depthfold/onnx that build and encode a model; `M` is its ModelProto. */
export interface ModelWriter<M> {
  /** The metadata an export of `checkpoint` writes, whose checkpoint file hashes to `sha256`. */
  modelMetadata(checkpoint: Checkpoint, sha256: string, folded: boolean): ModelMetadata;
  buildModel(checkpoint: Checkpoint, metadata: ModelMetadata, options: { folded: boolean }): M;
  encodeModel(model: M): Uint8Array;
  /** The bytes the integrity digest covers: the file without its metadata_props. */
  integrityPayload(bytes: Uint8Array): Uint8Array;
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** The metadata of a model exported before the digest existed: all but `integrity`. */
export function unstampedMetadataFor<M>(
  writer: ModelWriter<M>,
  checkpoint: Checkpoint,
  folded: boolean,
): ModelMetadata {
  return writer.modelMetadata(checkpoint, sha256(encodeCheckpoint(checkpoint)), folded);
}

/**
 * The metadata an export of `checkpoint` writes, with the digest of the graph and weights that `buildModel` makes of
 * it (the digest leaves metadata_props out, so it is the same before and after it is added): models built from it
 * load in @depthfold/infer with the integrity check on. Computed with node:crypto, which infer's tests compare with
 * its SubtleCrypto path.
 */
export function metadataFor<M>(writer: ModelWriter<M>, checkpoint: Checkpoint, folded: boolean): ModelMetadata {
  const base = unstampedMetadataFor(writer, checkpoint, folded);
  const bytes = writer.encodeModel(writer.buildModel(checkpoint, base, { folded }));
  return { ...base, integrity: { sha256: sha256(writer.integrityPayload(bytes)) } };
}

/** The .onnx bytes of `checkpoint` as `pnpm export` writes them (folded unless told otherwise), digest included. */
export function modelBytesOf<M>(writer: ModelWriter<M>, checkpoint: Checkpoint, folded = true): Uint8Array {
  return writer.encodeModel(writer.buildModel(checkpoint, metadataFor(writer, checkpoint, folded), { folded }));
}
