// The training configuration: one zod schema gives validation, defaults and the CLI's --help.
import { z } from 'zod';
import { DATASET_NAMES, type DatasetName } from './labels.js';
import { SURVIVAL_RULES } from './survival.js';
import { CIFAR_SHORTCUTS, IMAGENET_STEMS } from './families/index.js';
import { type Architecture, familyNames, networkNames, resolveArchitecture } from './family.js';
import type { InputShape } from './topology.js';

/** Backends the trainer can run on; `auto` takes the first that loads of tensorflow-gpu, tensorflow, onednn, wasm. */
export const TRAIN_BACKENDS = ['auto', 'tensorflow-gpu', 'tensorflow', 'onednn', 'wasm', 'cpu'] as const;

/** A training backend name. */
export type TrainBackend = (typeof TRAIN_BACKENDS)[number];

/**
 * Arithmetic of the convolutions and matmuls: fp32; bf16 (bf16 inputs, fp32 accumulation, on the onednn backend where
 * oneDNN has bf16 dot products; batch norm, loss, optimizer and weights stay fp32); or auto (bf16 where it can run).
 */
export const TRAIN_PRECISIONS = ['fp32', 'bf16', 'auto'] as const;

/** A training precision. */
export type TrainPrecision = (typeof TRAIN_PRECISIONS)[number];

/** The dataset of a run made of the user's own images: `--dataset folder --data DIR`. */
export const FOLDER_DATASET = 'folder';

/** What `--dataset` takes: a built-in dataset, or a folder of images. */
export const TRAIN_DATASETS = [...DATASET_NAMES, FOLDER_DATASET] as const;

/** A `--dataset` value. */
export type TrainDataset = DatasetName | typeof FOLDER_DATASET;

/** A folder's input size where `--input-size` is not given. */
export const FOLDER_DEFAULT_INPUT_SIZE = 64;

/** Bytes of decoded images a run holds in memory by default (2 GiB); a larger dataset streams from the cache. */
export const DEFAULT_MEMORY_BUDGET = 2 ** 31;

/** A held-out amount: a count of images, or a fraction of them. */
const heldOut = (description: string) =>
  z
    .number()
    .min(0)
    .refine((v) => Number.isInteger(v) || v < 1, 'a count (an integer) or a fraction in (0, 1)')
    .describe(description);

/** Per-channel values, comma-separated (one, or three for rgb). */
const channelValues = z
  .string()
  .regex(/^[0-9.]+(,[0-9.]+){0,2}$/, 'one number per channel, comma-separated, e.g. 0.485,0.456,0.406');

/** Validation, defaults and descriptions of every training option. */
export const trainConfigSchema = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, ".", "_" or "-"')
      .default('resnet20-fashion-mnist')
      .describe('run name: the run directory and the exported model are named after it'),
    runDir: z.string().optional().describe('run directory (default: runs/<name>)'),
    dataset: z
      .enum(TRAIN_DATASETS)
      .default('fashion-mnist')
      .describe(
        'dataset to train on; folder: your own images in --data DIR, as DIR/<class>/* or DIR/{train,val,test}/<class>/* (labels: the class folder names, sorted; PNG, JPEG, WebP, GIF, TIFF by extension, other files ignored and counted)',
      ),
    data: z
      .string()
      .optional()
      .describe(
        'dataset directory (default for fashion-mnist: /usr/share/datasets/fashion-mnist; required for folder). A folder run records its file list in <run>/dataset.json and a resume trains on that list: a file changed or removed since keeps the pixels cached from it, and one whose entry is no longer cached stops the run naming it (or is skipped with --skip-bad-images); a new run lists the folder again and decodes changed files from their new bytes',
      ),
    trainLimit: z.number().int().positive().optional().describe('train on a seeded random subset of this many images'),
    testLimit: z
      .number()
      .int()
      .positive()
      .optional()
      .describe(
        'evaluate on the first this many test images (folder: a seeded subset, its files being listed class by class)',
      ),
    validation: heldOut(
      'hold out this many training images, or this fraction of them (a seeded choice; per class for folder, which takes val/ instead where it has one) as a validation split, evaluated every epoch',
    ).default(0),
    testSplit: heldOut(
      'folder without test/: hold out this many images, or this fraction, per class by a seeded choice, as the test split (default 0.1)',
    ).optional(),
    arch: z
      .string()
      .min(1)
      .default('resnet20')
      .describe(
        `network: ${networkNames().join(', ')}; or a family (${familyNames().join(', ')}) with --depth (see docs/families.md)`,
      ),
    depth: z
      .number()
      .int()
      .positive()
      .optional()
      .describe(
        "the network's depth, replacing --arch's (resnet-cifar: 6n+2, e.g. 56; resnet-imagenet: 18, 34, 50, 101, 152)",
      ),
    shortcut: z
      .enum(CIFAR_SHORTCUTS)
      .optional()
      .describe(
        'resnet-cifar: shortcut of blocks that change shape, A (pool + zero-pad; default) or projection (1x1 conv + BN)',
      ),
    widthMultiplier: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe(
        'channels times this (resnet-cifar: every stage; resnet-imagenet: the bottleneck width, as wide_resnet50_2)',
      ),
    stem: z
      .enum(IMAGENET_STEMS)
      .optional()
      .describe(
        'resnet-imagenet: standard (7x7/2 conv + 3x3/2 max pool; default) or small (3x3/1 conv, for images under ~64 px)',
      ),
    inputSize: z
      .string()
      .regex(/^[1-9][0-9]*(x[1-9][0-9]*)?$/, 'a size H or HxW in pixels, e.g. 64 or 64x48')
      .optional()
      .describe(
        `the network's input size H or HxW (default: the dataset's own; ${FOLDER_DEFAULT_INPUT_SIZE} for folder); images are resized to it`,
      ),
    channels: z
      .number()
      .int()
      .refine((v) => v === 1 || v === 3, '1 (grey) or 3 (rgb)')
      .optional()
      .describe(
        "folder: the input's channels, 1 (grey, BT.601 luma) or 3 (rgb; default); alpha is flattened onto black",
      ),
    resize: z
      .enum(['shorter-side-crop', 'stretch'])
      .optional()
      .describe(
        'folder: how an image becomes the input, in evaluation and in the model: shorter-side-crop (default; the side that limits is resized to input / crop-fraction and the centre cropped, as ImageNet evaluation) or stretch (both sides to the input); antialiased bilinear',
      ),
    cropFraction: z
      .number()
      .gt(0)
      .max(1)
      .optional()
      .describe(
        "folder, shorter-side-crop: the centre crop's share of the resized side (default 0.875, as 224 of 256)",
      ),
    randomResizedCrop: z
      .number()
      .min(0)
      .max(1)
      .default(0)
      .describe(
        "folder, augmentation: ImageNet's random resized crop of training images, a crop of area share in [S, 1] and aspect ratio in [3/4, 4/3] resized to the input with the same bilinear kernel, taken from the training images cached at twice the input size (centre crop of the input's aspect ratio); S = this (0: off, training images are preprocessed as in evaluation; ImageNet recipes: 0.08)",
      ),
    mean: channelValues
      .optional()
      .describe(
        "normalisation: per-channel mean of pixel / 255, e.g. 0.485,0.456,0.406 (default: the training split's)",
      ),
    std: channelValues
      .optional()
      .describe("normalisation: per-channel standard deviation of pixel / 255 (default: the training split's)"),
    cacheDir: z
      .string()
      .optional()
      .describe(
        'folder: where decoded images are cached, one file per image keyed by its path, size, mtime and the preprocessing, so that later epochs and runs decode nothing (default: $XDG_CACHE_HOME/depthfold/images, else ~/.cache/depthfold/images)',
      ),
    memoryBudget: z
      .number()
      .int()
      .positive()
      .default(DEFAULT_MEMORY_BUDGET)
      .describe('folder: bytes of decoded images held in memory; a dataset larger than this streams from the cache'),
    decodeThreads: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe("folder: threads of the first pass's decoding (0: one per core)"),
    skipBadImages: z
      .boolean()
      .default(false)
      .describe(
        'folder: skip images that cannot be decoded (corrupt, truncated, unsupported, over 100 megapixels), listing them in <run>/skipped-images.txt, instead of stopping at the first, named',
      ),
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
    precision: z
      .enum(TRAIN_PRECISIONS)
      .default('fp32')
      .describe(
        'arithmetic of convs and matmuls: fp32, bf16 (mixed precision on onednn with a bf16 CPU: bf16 inputs, fp32 accumulation), or auto (bf16 where it can run)',
      ),
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

/** The options of a config that only a folder dataset takes. */
export const FOLDER_OPTIONS = [
  'testSplit',
  'channels',
  'resize',
  'cropFraction',
  'randomResizedCrop',
  'cacheDir',
  'skipBadImages',
] as const satisfies readonly (keyof TrainConfig)[];

/** The options of a config that go to the network's family (undefined where not given). */
export const ARCHITECTURE_OVERRIDES = [
  'depth',
  'shortcut',
  'widthMultiplier',
  'stem',
] as const satisfies readonly (keyof TrainConfig)[];

/** Height and width of a `--input-size` value (`64` is 64x64). */
export function parseInputSize(size: string): { height: number; width: number } {
  const [height, width = height] = size.split('x').map(Number) as [number, number?];
  return { height, width };
}

/** A complete, validated training configuration. */
export type TrainConfig = z.output<typeof trainConfigSchema>;
/** What a user may write: every field optional. */
export type TrainConfigInput = z.input<typeof trainConfigSchema>;

/**
 * The architecture record a config trains: its `arch` with the options it overrides, on `input` images.
 * @throws DepthfoldInputError naming `arch`, the refused option, or the input side that is too small.
 */
export function configArchitecture(config: TrainConfig, input: InputShape, numClasses: number): Architecture {
  const overrides = Object.fromEntries(ARCHITECTURE_OVERRIDES.map((key) => [key, config[key]]));
  return resolveArchitecture({ arch: config.arch, overrides }, input, numClasses);
}
