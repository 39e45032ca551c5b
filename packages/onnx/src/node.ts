// @depthfold/onnx/node: the node-only part of the package (file writing, Triton repositories), kept out of the
// browser-safe index.
export { writeModelFile } from './write-model-file.js';
export { stampModelFile, type StampResult } from './stamp-model-file.js';
export {
  tritonModelConfig,
  tritonRepositoryFiles,
  writeTritonRepository,
  LABEL_FILENAME,
  TRITON_DEFAULTS,
  type TritonConfigOptions,
  type RepositoryFile,
} from './triton-repository.js';
