// @depthfold/pipeline: what composes training and export, and so the one package that holds both tfjs (through
// @depthfold/train) and ONNX Runtime: export's verification (parity), p_L sweeps and model cards, with their CLIs
// (`pnpm export`, `pnpm sweep`, `pnpm card`). Nothing depends on it.
export { measureParity, type Parity } from './parity.js';
export {
  exportModel,
  exportOptionsSchema,
  ParityError,
  type ExportOptions,
  type ExportResult,
} from './export-model.js';
export { architectureText } from './architecture-text.js';
export {
  expandGrid,
  planSweep,
  planRun,
  inspectRun,
  configDifferences,
  pointId,
  sweepDir,
  type SweepGrid,
  type SweepPoint,
  type SweepSpec,
  type SweepTrainOptions,
  type SweepAction,
  type PlannedRun,
  type RunStatus,
} from './sweep-plan.js';
export { runSweep, type SweepOptions, type SweepHooks, type SweepResult, type TrainStartInfo } from './sweep.js';
export { parseSweepCommandLine, parseList, sweepOptionsSchema, sweepHelp, SWEEP_SUMMARY } from './sweep-args.js';
export {
  confusionMatrix,
  wilsonInterval,
  modelCardMarkdown,
  augmentationText,
  trainCommandOf,
  epochPlanText,
  type ConfusionMatrix,
  type Proportion,
  type ModelCardInput,
} from './model-card.js';
