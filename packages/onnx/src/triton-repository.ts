// An NVIDIA Triton model repository for an exported model: `<name>/1/model.onnx`, `<name>/config.pbtxt` for the
// onnxruntime backend (dynamic batching, FP32 NCHW input, logits output) and `<name>/labels.txt`, which Triton's
// classification extension reads through `label_filename`. Field names follow Triton's model_config.proto
// (triton-inference-server/common, protobuf/model_config.proto). Node-only: not exported from the browser-safe index.
import { join } from 'node:path';
import { DepthfoldInputError, type ModelMetadata } from '@depthfold/core';
import { writeFileAtomic } from '@depthfold/core/node';

/** How Triton batches the model. */
export interface TritonConfigOptions {
  /** `max_batch_size`: the largest batch Triton forms or accepts; default 64. */
  maxBatchSize?: number;
  /** `dynamic_batching.max_queue_delay_microseconds`; default 2000 (2 ms). */
  maxQueueDelayMicroseconds?: number;
}

/** The defaults of {@link TritonConfigOptions}: the batching of `pnpm serve`, so both servers behave alike. */
export const TRITON_DEFAULTS = Object.freeze({ maxBatchSize: 64, maxQueueDelayMicroseconds: 2000 });

/** One file of the repository, relative to its root. */
export interface RepositoryFile {
  path: string;
  content: Uint8Array | string;
}

/** The label file's name beside config.pbtxt. */
export const LABEL_FILENAME = 'labels.txt';

// Triton model names are directory names; keep them to what needs no quoting anywhere.
const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

// Protobuf text format strings: C-style escapes; UTF-8 is allowed as is.
function quote(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/**
 * The `config.pbtxt` of a depthfold model for Triton's onnxruntime backend. Dims leave out the batch dimension,
 * which `max_batch_size > 0` adds.
 * @throws DepthfoldInputError for a name Triton cannot use as a directory or a bad option.
 */
export function tritonModelConfig(name: string, metadata: ModelMetadata, options: TritonConfigOptions = {}): string {
  const maxBatch = options.maxBatchSize ?? TRITON_DEFAULTS.maxBatchSize;
  const delay = options.maxQueueDelayMicroseconds ?? TRITON_DEFAULTS.maxQueueDelayMicroseconds;
  if (!MODEL_NAME.test(name))
    throw new DepthfoldInputError(
      'name',
      'letters, digits, ".", "_" and "-", starting with a letter or digit',
      name,
      'Triton model',
    );
  if (!Number.isInteger(maxBatch) || maxBatch < 1)
    throw new DepthfoldInputError('maxBatchSize', 'an integer >= 1', maxBatch, 'Triton model');
  if (!Number.isInteger(delay) || delay < 0)
    throw new DepthfoldInputError('maxQueueDelayMicroseconds', 'an integer >= 0', delay, 'Triton model');
  const { channels, height, width } = metadata.input;
  return [
    `# Triton model configuration written by depthfold's \`pnpm export --triton\`${metadata.checkpoint ? ` (checkpoint sha256 ${metadata.checkpoint.sha256})` : ''}.`,
    `name: ${quote(name)}`,
    'platform: "onnxruntime_onnx"',
    `max_batch_size: ${maxBatch}`,
    'input [',
    '  {',
    `    name: ${quote(metadata.input.name)}`,
    '    data_type: TYPE_FP32',
    `    dims: [ ${channels}, ${height}, ${width} ]`,
    '  }',
    ']',
    'output [',
    '  {',
    `    name: ${quote(metadata.output.name)}`,
    '    data_type: TYPE_FP32',
    `    dims: [ ${metadata.labels.length} ]`,
    `    label_filename: ${quote(LABEL_FILENAME)}`,
    '  }',
    ']',
    'dynamic_batching {',
    `  max_queue_delay_microseconds: ${delay}`,
    '}',
    '',
  ].join('\n');
}

/**
 * The files of a one-model Triton repository, paths relative to the repository root.
 * @throws DepthfoldInputError for a label that would break the one-label-per-line file, or as {@link tritonModelConfig}.
 */
export function tritonRepositoryFiles(
  name: string,
  modelBytes: Uint8Array,
  metadata: ModelMetadata,
  options: TritonConfigOptions = {},
): RepositoryFile[] {
  metadata.labels.forEach((label, i) => {
    if (/[\r\n]/.test(label))
      throw new DepthfoldInputError(
        `labels[${i}]`,
        'a label without line breaks (labels.txt holds one per line)',
        label,
        'Triton model',
      );
  });
  return [
    { path: join(name, '1', 'model.onnx'), content: modelBytes },
    { path: join(name, 'config.pbtxt'), content: tritonModelConfig(name, metadata, options) },
    { path: join(name, LABEL_FILENAME), content: `${metadata.labels.join('\n')}\n` },
  ];
}

/**
 * Writes the repository under `dir` (each file atomically; an existing model of the same name is replaced).
 * @returns The paths written.
 */
export async function writeTritonRepository(
  dir: string,
  name: string,
  modelBytes: Uint8Array,
  metadata: ModelMetadata,
  options: TritonConfigOptions = {},
): Promise<string[]> {
  const written: string[] = [];
  for (const file of tritonRepositoryFiles(name, modelBytes, metadata, options)) {
    const path = join(dir, file.path);
    await writeFileAtomic(path, file.content);
    written.push(path);
  }
  return written;
}
