// The training configuration: one zod schema gives validation, defaults and the CLI's --help.
import { z } from 'zod';
import { DATASET_NAMES } from './labels.js';
import { SURVIVAL_RULES } from './survival.js';

/** Backends the trainer can run on; `auto` takes the first that loads of tensorflow-gpu, tensorflow, onednn, wasm. */
export const TRAIN_BACKENDS = ['auto', 'tensorflow-gpu', 'tensorflow', 'onednn', 'wasm', 'cpu'] as const;

/** A training backend name. */
export type TrainBackend = (typeof TRAIN_BACKENDS)[number];

/** Validation, defaults and descriptions of every training option. */
export const trainConfigSchema = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, ".", "_" or "-"')
      .default('resnet20-fashion-mnist')
      .describe('run name: the run directory and the exported model are named after it'),
    runDir: z.string().optional().describe('run directory (default: runs/<name>)'),
    dataset: z.enum(DATASET_NAMES).default('fashion-mnist').describe('dataset to train on'),
    data: z
      .string()
      .optional()
      .describe('dataset directory (default for fashion-mnist: /usr/share/datasets/fashion-mnist)'),
    trainLimit: z.number().int().positive().optional().describe('train on a seeded random subset of this many images'),
    testLimit: z.number().int().positive().optional().describe('evaluate on the first this many test images'),
    validation: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe('hold out this many training images (a seeded choice) as a validation split, evaluated every epoch'),
    depth: z
      .number()
      .int()
      .min(8)
      .refine((d) => (d - 2) % 6 === 0, 'a depth 6n+2 (8, 14, 20, 32, 44, 56, 110)')
      .default(20)
      .describe('network depth 6n+2'),
    shortcut: z
      .enum(['A', 'projection'])
      .default('A')
      .describe('shortcut of blocks that change shape: A (pool + zero-pad) or projection (1x1 conv + BN)'),
    survivalRule: z
      .enum(SURVIVAL_RULES)
      .default('linear')
      .describe('survival schedule: linear decay, uniform, or none (constant depth)'),
    survivalProb: z.number().gt(0).max(1).default(0.5).describe('p_L, the survival probability of the last block'),
    epochs: z.number().int().positive().default(1).describe('epochs to train'),
    batchSize: z.number().int().positive().default(128).describe('mini-batch size'),
    evalBatchSize: z.number().int().positive().default(500).describe('batch size for evaluation'),
    learningRate: z.number().positive().default(0.1).describe('peak learning rate'),
    lrSchedule: z
      .enum(['cosine', 'step'])
      .default('cosine')
      .describe('cosine annealing, or step (divide by 10 at 50% and 75% of training)'),
    warmupEpochs: z.number().min(0).default(0).describe('linear warm-up of the learning rate over this many epochs'),
    momentum: z.number().min(0).max(0.999).default(0.9).describe('SGD momentum (Nesterov)'),
    weightDecay: z.number().min(0).default(1e-4).describe('L2 weight decay on conv and dense weights'),
    padCrop: z
      .number()
      .int()
      .min(0)
      .default(2)
      .describe('augmentation: pad by this many pixels and crop back at a random offset'),
    flip: z.boolean().default(true).describe('augmentation: random horizontal flip'),
    randomErasing: z
      .number()
      .min(0)
      .max(1)
      .default(0)
      .describe(
        'augmentation: random erasing (Zhong et al. 2020), the probability that a training image has one random rectangle filled with noise (0: off; the paper uses 0.5)',
      ),
    seed: z
      .number()
      .int()
      .min(0)
      .default(1)
      .describe('seed of every random choice (init, gates, shuffles, augmentation)'),
    backend: z
      .enum(TRAIN_BACKENDS)
      .default('auto')
      .describe('tfjs backend (auto: tensorflow-gpu, tensorflow, onednn, then wasm)'),
    workers: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe('data-parallel worker threads, each with its own backend (0: one per core on wasm, 1 on the others)'),
    threads: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe("onednn's OpenMP threads in each worker (0: the cores divided among the workers)"),
    resume: z
      .boolean()
      .default(false)
      .describe(
        'continue the run in runDir from its last checkpoint (or from the start, if it stopped before one) with its recorded settings (epochs, backend, workers, threads and data may change)',
      ),
  })
  .strict();

/** A complete, validated training configuration. */
export type TrainConfig = z.output<typeof trainConfigSchema>;
/** What a user may write: every field optional. */
export type TrainConfigInput = z.input<typeof trainConfigSchema>;
