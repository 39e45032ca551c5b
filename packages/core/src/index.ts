// @depthfold/core: the architecture, survival schedules, schemas and formats that every package shares.
export * from './topology.js';
export * from './parameters.js';
export * from './family.js';
export * from './families/index.js';
export * from './survival.js';
export * from './config.js';
export * from './epoch-plan.js';
export * from './metadata.js';
export * from './labels.js';
export * from './errors.js';
export * from './random.js';
export * from './safetensors.js';
export * from './checkpoint.js';
export * from './run-format.js';
export * from './shipped-model.js';
export * from './preprocessing.js';
