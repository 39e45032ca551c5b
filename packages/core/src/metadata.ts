// What an exported model says about itself (ONNX metadata_props) and what a checkpoint records. One schema per
// format, used by the writers and by every reader.
//
// A model's metadata says what a runtime needs to run it (input, preprocessing, normalisation, output, labels); the
// architecture, schedule, dataset and training figures are provenance, checked when present but never required to
// name a family the runtime knows. Format 1 (models exported before families existed) is read and upgraded to 2.
import { z } from 'zod';
import { DATASET_LABELS, DATASET_NAMES } from './labels.js';
import { CIFAR_SHORTCUTS } from './families/resnet-cifar.js';
import { SURVIVAL_RULES } from './survival.js';
import { trainConfigSchema } from './config.js';
import { type EpochPlan, epochPlanSchema, singleEpochPlan } from './epoch-plan.js';
import { architectureSchema, knownTopology } from './family.js';
import { DepthfoldInputError, parseWith } from './errors.js';
import { residualLayers } from './topology.js';
import { exactPreprocessing, preprocessingSchema } from './preprocessing.js';

/** Version of the model metadata written now; readers refuse versions they do not know. */
export const METADATA_FORMAT_VERSION = 2;

/** Version of the checkpoint record written now. */
export const CHECKPOINT_FORMAT_VERSION = 1;

const positiveInt = z.number().int().positive();

/** The first format's architecture: the CIFAR ResNet-(6n+2), the only family there was. */
const architectureV1Schema = z.object({
  family: z.literal('resnet-6n+2'),
  depth: positiveInt,
  blocksPerStage: positiveInt,
  widths: z.array(positiveInt).min(1),
  strides: z.array(positiveInt).min(1),
  shortcut: z.enum(CIFAR_SHORTCUTS),
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
  /** The precision of the convs and matmuls in training (`bf16`: bf16 inputs, fp32 accumulation); fp32 where absent. */
  precision: z.string().optional(),
});

/** Training metrics as stored. */
export type TrainingMetrics = z.output<typeof trainingMetricsSchema>;

/** Labels: any names, each unlike every other (a duplicated entry would make two outputs one class). */
const labelsSchema = z
  .array(z.string().min(1))
  .min(2)
  .superRefine((labels, ctx) => {
    const first = new Map<string, number>();
    labels.forEach((label, i) => {
      const j = first.get(label);
      if (j !== undefined)
        ctx.addIssue({ code: 'custom', path: [i], message: `a label unlike every other (labels[${j}] is the same)` });
      else first.set(label, i);
    });
  });

/**
 * Where the training images came from: the dataset's name (`folder:<folder name>` for a folder of images), the images
 * trained on and, where the run held some out, the validation images.
 */
const datasetSchema = z.object({
  name: z.string().min(1),
  trainExamples: z.number().int().min(0),
  validationExamples: z.number().int().min(0).optional(),
});

/** The checkpoint a model was exported from. */
const checkpointRefSchema = z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), epoch: z.number().int().min(0) });

/** The graph input of either format: its name, NCHW layout and size (format 2 adds the preprocessing). */
const inputSchema = z.object({
  name: z.string().min(1),
  layout: z.literal('NCHW'),
  height: positiveInt,
  width: positiveInt,
  channels: positiveInt,
});

/** The graph output: logits. */
const outputSchema = z.object({ name: z.string().min(1), kind: z.literal('logits') });

/** Checks that hold across fields of a model's metadata, in either format. */
function checkModel(
  m: {
    labels: string[];
    input: { channels: number };
    normalization: Normalization;
    architecture?: { numClasses: number; input: { height: number; width: number; channels: number } } | undefined;
  },
  ctx: z.RefinementCtx,
): void {
  if (m.architecture && m.labels.length !== m.architecture.numClasses) {
    ctx.addIssue({
      code: 'custom',
      path: ['labels'],
      message: `${m.architecture.numClasses} labels (architecture.numClasses)`,
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
}

/**
 * Checks the architecture of a family registered here (options, input size, one p_l per block); a family this
 * process does not know passes, since a runtime need not know it.
 */
function checkProvenance(
  architecture: Readonly<Record<string, unknown>>,
  schedule: { survivalProbs: number[] } | undefined,
  ctx: z.RefinementCtx,
): void {
  try {
    const topology = knownTopology(architecture);
    const blocks = topology ? residualLayers(topology).length : undefined;
    if (schedule && blocks !== undefined && schedule.survivalProbs.length !== blocks) {
      ctx.addIssue({
        code: 'custom',
        path: ['schedule', 'survivalProbs'],
        message: `${blocks} survival probabilities, one per block`,
      });
    }
  } catch (error) {
    if (!(error instanceof DepthfoldInputError)) throw error;
    ctx.addIssue({ code: 'custom', path: ['architecture', ...error.field.split('.')], message: error.expected });
  }
}

/**
 * The metadata of an exported model (format 2); each top-level field is one `metadata_props` entry holding JSON.
 * What a runtime needs is required; the rest is provenance, optional.
 */
export const modelMetadataSchema = z
  .object({
    formatVersion: z.literal(METADATA_FORMAT_VERSION),
    labels: labelsSchema,
    input: inputSchema.extend({ preprocessing: preprocessingSchema }),
    output: outputSchema,
    normalization: modelNormalizationSchema,
    folded: z.boolean(),
    // Optional in the schema so that a model exported before the digest existed still reads (and can be stamped);
    // @depthfold/infer refuses to load one without it unless told not to verify.
    integrity: integritySchema.optional(),
    architecture: architectureSchema.optional(),
    schedule: scheduleSchema.optional(),
    dataset: datasetSchema.optional(),
    metrics: trainingMetricsSchema.optional(),
    checkpoint: checkpointRefSchema.optional(),
  })
  .superRefine((m, ctx) => {
    checkModel(m, ctx);
    if (m.architecture) checkProvenance(m.architecture, m.schedule, ctx);
    const channels = m.input.preprocessing.colour === 'grey' ? 1 : 3;
    if (channels !== m.input.channels) {
      ctx.addIssue({
        code: 'custom',
        path: ['input', 'preprocessing', 'colour'],
        message: `the colour of ${m.input.channels} channels (${m.input.channels === 1 ? 'grey' : 'rgb'})`,
      });
    }
  });

/** The metadata of an exported model. */
export type ModelMetadata = z.output<typeof modelMetadataSchema>;

/** Format 1: the CIFAR family and the built-in datasets only, every field required. Read, never written. */
const modelMetadataV1Schema = z
  .object({
    formatVersion: z.literal(1),
    labels: labelsSchema,
    input: inputSchema,
    output: outputSchema,
    normalization: modelNormalizationSchema,
    architecture: architectureV1Schema,
    schedule: scheduleSchema,
    dataset: z.object({ name: z.enum(DATASET_NAMES), trainExamples: z.number().int().min(0) }),
    metrics: trainingMetricsSchema,
    checkpoint: checkpointRefSchema,
    folded: z.boolean(),
    integrity: integritySchema.optional(),
  })
  .superRefine((m, ctx) => {
    checkModel(m, ctx);
    // Format 1 labels were the dataset's, in its order: a reversed entry would relabel the output silently.
    const known = DATASET_LABELS[m.dataset.name];
    const i = m.labels.length === known.length ? m.labels.findIndex((label, k) => label !== known[k]) : -1;
    if (i >= 0)
      ctx.addIssue({
        code: 'custom',
        path: ['labels', i],
        message: `${JSON.stringify(known[i])} (label ${i} of ${m.dataset.name})`,
      });
    const blocks = 3 * m.architecture.blocksPerStage;
    if (m.schedule.survivalProbs.length !== blocks) {
      ctx.addIssue({
        code: 'custom',
        path: ['schedule', 'survivalProbs'],
        message: `${blocks} survival probabilities, one per block`,
      });
    }
  });

/** The provenance fields of a model's metadata, which an export always writes and a runtime never needs. */
export const PROVENANCE_KEYS = ['architecture', 'schedule', 'dataset', 'metrics', 'checkpoint'] as const;

/** Metadata with its provenance: what `pnpm export` writes, and what a model card describes. */
export type ProvenancedMetadata = ModelMetadata & Required<Pick<ModelMetadata, (typeof PROVENANCE_KEYS)[number]>>;

/**
 * `metadata` with its provenance, for the tools that describe how a model was trained (model cards).
 * @throws DepthfoldInputError naming the first provenance field that `source` lacks.
 */
export function requireProvenance(metadata: ModelMetadata, source: string): ProvenancedMetadata {
  for (const key of PROVENANCE_KEYS) {
    if (metadata[key] === undefined)
      throw new DepthfoldInputError(key, 'the provenance that `pnpm export` records', undefined, `model ${source}`);
  }
  return metadata as ProvenancedMetadata;
}

/** The metadata_props keys of a model, in the order they are written. */
export const MODEL_METADATA_KEYS: readonly (keyof ModelMetadata)[] = [
  'formatVersion',
  'labels',
  'input',
  'output',
  'normalization',
  'architecture',
  'schedule',
  'dataset',
  'metrics',
  'checkpoint',
  'folded',
  'integrity',
];

/**
 * Parses a model's metadata in either format; format 1 comes back as format 2, its images of exactly the input's
 * size (the only kind its runtimes took).
 * @throws DepthfoldInputError naming the field that fails, in `context`.
 */
export function parseModelMetadata(raw: unknown, context: string): ModelMetadata {
  const version = (raw as { formatVersion?: unknown } | null)?.formatVersion;
  if (version !== 1) return parseWith(modelMetadataSchema, raw, context);
  const v1 = parseWith(modelMetadataV1Schema, raw, context);
  const { formatVersion: _, input, ...rest } = v1;
  return parseWith(
    modelMetadataSchema,
    {
      ...rest,
      formatVersion: METADATA_FORMAT_VERSION,
      input: { ...input, preprocessing: exactPreprocessing(input.channels) },
    },
    context,
  );
}

/** What a checkpoint records beside its tensors (safetensors `__metadata__`, key `depthfold`). */
export const checkpointInfoSchema = z.object({
  formatVersion: z.literal(CHECKPOINT_FORMAT_VERSION),
  config: trainConfigSchema,
  architecture: architectureSchema,
  schedule: scheduleSchema,
  normalization: normalizationSchema,
  labels: labelsSchema,
  dataset: datasetSchema,
  /** How images become the input; absent in checkpoints of the built-in datasets at their own size (exact). */
  preprocessing: preprocessingSchema.optional(),
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
