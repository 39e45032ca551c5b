// What a checkpoint records besides its tensors: settings, architecture, schedule, data and the epoch's figures.
import {
  DATASET_LABELS,
  parseWith,
  trainConfigSchema,
  withoutTimings,
  type CheckpointInfo,
  type EpochPlan,
  type EpochMetrics,
  type Normalization,
  type ResNetSpec,
  type TrainConfig,
} from '@depthfold/core';

/** The state of a run after an epoch, as {@link checkpointInfo} records it. */
export interface CheckpointRecord {
  config: TrainConfig;
  spec: ResNetSpec;
  probs: number[];
  normalization: Normalization;
  trainExamples: number;
  /** The epoch's metrics line; its `epoch` is the number of epochs done. */
  line: EpochMetrics;
  /** The tfjs backend the epoch ran on. */
  backend: string;
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
  const { config, spec, probs, line } = record;
  return {
    formatVersion: 1,
    config: recordedSettings(config),
    architecture: { ...spec, widths: [...spec.widths], strides: [...spec.strides] },
    schedule: { rule: config.survivalRule, survivalProb: config.survivalProb, survivalProbs: probs },
    normalization: record.normalization,
    labels: [...DATASET_LABELS[config.dataset]],
    dataset: { name: config.dataset, trainExamples: record.trainExamples },
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
    },
    epochMetrics: withoutTimings(line),
    epochPlan: record.epochPlan.map((part) => ({ ...part })),
  };
}
