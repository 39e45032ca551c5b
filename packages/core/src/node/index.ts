// @depthfold/core/node: file I/O for Node (atomic writes, checkpoint files); the main entry stays browser-safe.
export { writeFileAtomic, saveCheckpoint, loadCheckpoint } from './files.js';
