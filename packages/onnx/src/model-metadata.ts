// The metadata an exported model carries, derived from the checkpoint it was exported from.
import { METADATA_FORMAT_VERSION, type Checkpoint, type ModelMetadata } from '@depthfold/core';
import { INPUT_NAME, OUTPUT_NAME } from './consistency.js';

/** The metadata of an export of `checkpoint`, whose file bytes hash to `sha256`. */
export function modelMetadata(checkpoint: Checkpoint, sha256: string, folded: boolean): ModelMetadata {
  const { info } = checkpoint;
  return {
    formatVersion: METADATA_FORMAT_VERSION,
    labels: info.labels,
    input: { name: INPUT_NAME, layout: 'NCHW', ...info.architecture.input },
    output: { name: OUTPUT_NAME, kind: 'logits' },
    normalization: info.normalization,
    architecture: info.architecture,
    schedule: info.schedule,
    dataset: info.dataset,
    metrics: info.metrics,
    checkpoint: { sha256, epoch: info.epoch },
    folded,
  };
}
