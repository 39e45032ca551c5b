// What an exported model says about itself (ONNX metadata_props) and what a checkpoint records.
// One schema, used by the writer and by every reader.
import { z } from 'zod';
import { DATASET_LABELS, DATASET_NAMES } from './labels.js';
import { SURVIVAL_RULES } from './survival.js';
import { trainConfigSchema } from './config.js';
import { type EpochPlan, epochPlanSchema, singleEpochPlan } from './epoch-plan.js';

/** Version of the metadata layout; readers reject versions they do not know. */
export const METADATA_FORMAT_VERSION = 1;

const positiveInt = z.number().int().positive();

/** The architecture as stored (see `ResNetSpec`). */
export const architectureSchema = z.object({
  family: z.literal('resnet-6n+2'),
  depth: positiveInt,
  blocksPerStage: positiveInt,
  widths: z.array(positiveInt).min(1),
  strides: z.array(positiveInt).min(1),
  shortcut: z.enum(['A', 'projection']),
  input: z.object({ height: positiveInt, width: positiveInt, channels: positiveInt }),
  numClasses: z.number().int().min(2),
  batchNormEpsilon: z.number().positive(),
});

/** x = (pixel / 255 - mean[c]) / std[c], per channel. */
export const normalizationSchema = z.object({
  mean: z.array(z.number()).min(1),
  std: z.array(z.number().positive()).min(1),
});

/** Pixel normalisation applied before the network. */
export type Normalization = z.output<typeof normalizationSchema>;

/**
 * Bounds of a model's normalisation. A pixel / 255 lies in 0..1, so its mean does too and its standard deviation is
 * at most 0.5; std 1 (no scaling) is allowed. The least std keeps |x| <= 1 / 0.001 = 1000, far inside float32: the
 * schema alone once let std 1e-300 or mean 1e308 through, and classify answered NaN.
 */
export const NORMALIZATION_BOUNDS = Object.freeze({ meanMin: 0, meanMax: 1, stdMin: 1e-3, stdMax: 1 });

/** A model's normalisation: {@link normalizationSchema} with finite values inside {@link NORMALIZATION_BOUNDS}. */
export const modelNormalizationSchema = z.object({
  mean: z.array(z.number().min(NORMALIZATION_BOUNDS.meanMin).max(NORMALIZATION_BOUNDS.meanMax)).min(1),
  std: z.array(z.number().min(NORMALIZATION_BOUNDS.stdMin).max(NORMALIZATION_BOUNDS.stdMax)).min(1),
});

/**
 * The digest that lets a reader detect a changed graph or weights: SHA-256 (lowercase hex) of the model file with
 * its top-level `metadata_props` records left out (see `@depthfold/onnx`'s `integrityPayload`), so that it can be
 * stored in those very records.
 */
export const integritySchema = z.object({
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 digest: 64 lowercase hex digits'),
});

/** The stored digest of a model's graph and weights. */
export type Integrity = z.output<typeof integritySchema>;

/** The survival schedule the network was trained with. */
export const scheduleSchema = z.object({
  rule: z.enum(SURVIVAL_RULES),
  survivalProb: z.number().gt(0).max(1),
  /** p_l of every block, l = 1..L. */
  survivalProbs: z.array(z.number().gt(0).max(1)).min(1),
});

/** Figures measured during training. */
export const trainingMetricsSchema = z.object({
  epochs: z.number().int().min(0),
  steps: z.number().int().min(0),
  trainLoss: z.number().optional(),
  trainError: z.number().optional(),
  testLoss: z.number().optional(),
  testError: z.number().optional(),
  testExamples: z.number().int().min(0).optional(),
  validationLoss: z.number().optional(),
  validationError: z.number().optional(),
  /** Wall-clock training seconds. No longer written: a checkpoint must hash alike for equal training state (timings are in `metrics.jsonl`); read from older files. */
  seconds: z.number().min(0).optional(),
  backend: z.string().optional(),
});

/** Training metrics as stored. */
export type TrainingMetrics = z.output<typeof trainingMetricsSchema>;

/** The metadata of an exported model; each top-level field is one `metadata_props` entry holding JSON. */
export const modelMetadataSchema = z
  .object({
    formatVersion: z.literal(METADATA_FORMAT_VERSION),
    labels: z.array(z.string().min(1)).min(2),
    input: z.object({
      name: z.string().min(1),
      layout: z.literal('NCHW'),
      height: positiveInt,
      width: positiveInt,
      channels: positiveInt,
    }),
    output: z.object({ name: z.string().min(1), kind: z.literal('logits') }),
    normalization: modelNormalizationSchema,
    architecture: architectureSchema,
    schedule: scheduleSchema,
    dataset: z.object({ name: z.enum(DATASET_NAMES), trainExamples: z.number().int().min(0) }),
    metrics: trainingMetricsSchema,
    checkpoint: z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), epoch: z.number().int().min(0) }),
    folded: z.boolean(),
    // Optional in the schema so that a model exported before the digest existed still reads (and can be stamped);
    // @depthfold/infer refuses to load one without it unless told not to verify.
    integrity: integritySchema.optional(),
  })
  .superRefine((m, ctx) => {
    if (m.labels.length !== m.architecture.numClasses) {
      ctx.addIssue({
        code: 'custom',
        path: ['labels'],
        message: `${m.architecture.numClasses} labels (architecture.numClasses)`,
      });
    }
    // Labels are the dataset's, in its order: a reversed or duplicated entry would relabel the output silently.
    const first = new Map<string, number>();
    m.labels.forEach((label, i) => {
      const j = first.get(label);
      if (j !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['labels', i],
          message: `a label unlike every other (labels[${j}] is the same)`,
        });
      else first.set(label, i);
    });
    const known = DATASET_LABELS[m.dataset.name];
    if (m.labels.length === known.length) {
      const i = m.labels.findIndex((label, k) => label !== known[k]);
      if (i >= 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['labels', i],
          message: `${JSON.stringify(known[i])} (label ${i} of ${m.dataset.name})`,
        });
      }
    }
    const blocks = 3 * m.architecture.blocksPerStage;
    if (m.schedule.survivalProbs.length !== blocks) {
      ctx.addIssue({
        code: 'custom',
        path: ['schedule', 'survivalProbs'],
        message: `${blocks} survival probabilities, one per block`,
      });
    }
    for (const key of ['mean', 'std'] as const) {
      if (m.normalization[key].length !== m.input.channels) {
        ctx.addIssue({
          code: 'custom',
          path: ['normalization', key],
          message: `${m.input.channels} values, one per channel`,
        });
      }
    }
  });

/** The metadata of an exported model. */
export type ModelMetadata = z.output<typeof modelMetadataSchema>;

/** What a checkpoint records beside its tensors (safetensors `__metadata__`, key `depthfold`). */
export const checkpointInfoSchema = z.object({
  formatVersion: z.literal(METADATA_FORMAT_VERSION),
  config: trainConfigSchema,
  architecture: architectureSchema,
  schedule: scheduleSchema,
  normalization: normalizationSchema,
  labels: z.array(z.string()).min(2),
  dataset: z.object({ name: z.enum(DATASET_NAMES), trainExamples: z.number().int().min(0) }),
  /** Epochs completed; training resumes at this epoch. */
  epoch: z.number().int().min(0),
  step: z.number().int().min(0),
  metrics: trainingMetricsSchema,
  /**
   * The `metrics.jsonl` line of the epoch this checkpoint ends, less its wall-clock timings: the checkpoint is the
   * epoch's commit point, and a resume rewrites the line from here when a kill came before the metrics file's rename.
   * The trainer owns its fields; absent in checkpoints written before it was added.
   */
  epochMetrics: z.looseObject({ epoch: z.number().int().min(1) }).optional(),
  /**
   * The epoch count each part of the run trained towards (more than one part when a resume changed `--epochs`).
   * Absent in checkpoints written before it was added: `config.epochs` throughout, as far as they record.
   */
  epochPlan: epochPlanSchema.optional(),
});

/** What a checkpoint records beside its tensors. */
export type CheckpointInfo = z.output<typeof checkpointInfoSchema>;

/** The epoch plan a checkpoint records, or the one its config implies when it records none. */
export function epochPlanOf(info: Pick<CheckpointInfo, 'epochPlan' | 'config'>): EpochPlan {
  return info.epochPlan ?? singleEpochPlan(info.config.epochs);
}
