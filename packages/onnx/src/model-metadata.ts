// The metadata an exported model carries, derived from the checkpoint it was exported from.
import { exactPreprocessing, METADATA_FORMAT_VERSION, type Checkpoint, type ModelMetadata } from '@depthfold/core';
import { INPUT_NAME, OUTPUT_NAME } from './consistency.js';

/** The metadata of an export of `checkpoint`, whose file bytes hash to `sha256`. */
export function modelMetadata(checkpoint: Checkpoint, sha256: string, folded: boolean): ModelMetadata {
  const { info } = checkpoint;
  const { input } = info.architecture;
  return {
    formatVersion: METADATA_FORMAT_VERSION,
    labels: info.labels,
    input: {
      name: INPUT_NAME,
      layout: 'NCHW',
      ...input,
      // Checkpoints of the built-in datasets at their own size record none: their images are the input's size.
      preprocessing: info.preprocessing ?? exactPreprocessing(input.channels),
    },
    output: { name: OUTPUT_NAME, kind: 'logits' },
    normalization: info.normalization,
    folded,
    architecture: info.architecture,
    schedule: info.schedule,
    dataset: info.dataset,
    metrics: info.metrics,
    checkpoint: { sha256, epoch: info.epoch },
  };
}
