// What a checkpoint records besides its tensors: settings, architecture, schedule, data and the epoch's figures.
import {
  type Architecture,
  CHECKPOINT_FORMAT_VERSION,
  parseWith,
  trainConfigSchema,
  withoutTimings,
  type CheckpointInfo,
  type EpochPlan,
  type EpochMetrics,
  type Normalization,
  type Preprocessing,
  type TrainConfig,
} from '@depthfold/core';

/** The state of a run after an epoch, as {@link checkpointInfo} records it. */
export interface CheckpointRecord {
  config: TrainConfig;
  architecture: Architecture;
  /** How images became the input; undefined for the built-in datasets at their own size. */
  preprocessing: Preprocessing | undefined;
  /** Class names, by label. */
  labels: readonly string[];
  probs: number[];
  normalization: Normalization;
  /** The dataset's recorded name, the images trained on and those held out for validation (if any). */
  dataset: CheckpointInfo['dataset'];
  /** The epoch's metrics line; its `epoch` is the number of epochs done. */
  line: EpochMetrics;
  /** The tfjs backend the epoch ran on. */
  backend: string;
  /** The precision its convs and matmuls ran in. */
  precision: string;
  /** The epoch count each part of the run trained towards. */
  epochPlan: EpochPlan;
}

/**
 * The settings a checkpoint records: the config less where the run lives and how this session was started (`runDir`,
 * `resume`), in the schema's key order, so that equal training states give byte-identical checkpoints whichever
 * directory or session wrote them.
 */
function recordedSettings(config: TrainConfig): TrainConfig {
  return parseWith(trainConfigSchema, { ...config, runDir: undefined, resume: false }, 'train config');
}

/**
 * The info of the checkpoint written after `record.line.epoch` epochs. It carries the epoch's metrics line without
 * wall-clock timings, so that a resume can restore a line the kill lost and equal states stay byte-identical.
 */
export function checkpointInfo(record: CheckpointRecord): CheckpointInfo {
  const { config, probs, line } = record;
  return {
    formatVersion: CHECKPOINT_FORMAT_VERSION,
    config: recordedSettings(config),
    architecture: record.architecture,
    schedule: { rule: config.survivalRule, survivalProb: config.survivalProb, survivalProbs: probs },
    normalization: record.normalization,
    labels: [...record.labels],
    dataset: { ...record.dataset },
    ...(record.preprocessing ? { preprocessing: record.preprocessing } : {}),
    epoch: line.epoch,
    step: line.step,
    metrics: {
      epochs: line.epoch,
      steps: line.step,
      trainLoss: line.trainLoss,
      trainError: line.trainError,
      testLoss: line.testLoss,
      testError: line.testError,
      testExamples: line.testExamples,
      validationLoss: line.validationLoss,
      validationError: line.validationError,
      backend: record.backend,
      precision: record.precision,
    },
    epochMetrics: withoutTimings(line),
    epochPlan: record.epochPlan.map((part) => ({ ...part })),
  };
}
