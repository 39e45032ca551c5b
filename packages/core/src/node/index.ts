// @depthfold/core/node: what the Node CLIs share (atomic writes, checkpoint files, the run directory, flags from zod
// schemas, the logger); the main entry stays browser-safe.
export {
  writeFileAtomic,
  removeStaleTempFiles,
  saveCheckpoint,
  loadCheckpoint,
  type AtomicWriteOptions,
} from './files.js';
export { commandLineOf, helpText, parseCommandLine } from './cli-args.js';
export { processLogger, runCommand, silentLogger, type Logger } from './log.js';
export {
  defaultRunDir,
  readMetrics,
  readRecordedConfig,
  removeStaleRunTempFiles,
  runPaths,
  writeMetrics,
  type RunPaths,
} from './run-dir.js';
