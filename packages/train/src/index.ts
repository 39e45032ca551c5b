// @depthfold/train: trains ResNet-(6n+2) with stochastic depth in TensorFlow.js.
export { train, workerCount, type TrainResult } from './trainer.js';
export { runDirOf } from './open-run.js';
export { splitTrainingSet } from './training-split.js';
export type { TrainHooks, StepProgress, WriteBoundary } from './train-hooks.js';
export { resumedConfig, RESUMABLE_SETTINGS } from './resume.js';
export { resolvePrecision, selectBackend, type BackendChoice, type BackendOptions } from './backend.js';
export { forward, type ForwardMode, type ForwardResult, type BatchStats } from './forward.js';
export {
  createNetwork,
  initialTensors,
  networkFromTensors,
  networkTensors,
  disposeNetwork,
  type Network,
} from './network.js';
export { LocalEngine } from './parallel/local-engine.js';
export { WorkerEngine } from './parallel/worker-engine.js';
export { soloCollective, type Collective } from './parallel/collective.js';
export type { TrainEngine, Batch, StepSettings, StepOutcome, EngineInit } from './parallel/engine.js';
export { evaluate, testLogits, checkpointLogits, type Evaluation } from './evaluate.js';
export { drawGates } from './gates.js';
export { Sgd, type SgdStep } from './optimizer.js';
export { trainStep, activeParameters, decayedParameters, BATCH_NORM_MOMENTUM, type StepResult } from './train-step.js';
export { learningRateAt, type LrSchedule } from './lr-schedule.js';
export { conv2d } from './kernels/conv2d.js';
export * from './data/index.js';
export { measureTrainSteps, type KernelShare, type MeasureOptions, type MeasureResult } from './bench/measure-steps.js';
// The logger moved to @depthfold/core/node, shared by every CLI; kept here for the train package's users.
export { processLogger, silentLogger, type Logger } from '@depthfold/core/node';
