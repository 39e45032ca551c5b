/**
 * The datasets depthfold trains on, their shapes and where their files live, and {@link loadDataset} to read
 * one into memory as HWC bytes.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { concatCifar, readCifarFile, type CifarRecords, type CifarVariant } from './cifar.js';
import { DatasetError } from './errors.js';
import { readIdxFile } from './idx.js';
import { DATASET_LABELS, DATASET_NAMES, type DatasetName } from '@depthfold/core';

/** Where the Debian package `dataset-fashion-mnist` installs Fashion-MNIST. */
export const DEFAULT_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/**
 * One split of a dataset, images as unnormalised bytes.
 *
 * The shape is repeated here (it is also on {@link Dataset}) so that batching and statistics need only the split.
 */
export interface Split {
  /** `count * height * width * channels` bytes, each image HWC (channels interleaved), images back to back. */
  images: Uint8Array;
  /** One class index per image, below the dataset's `numClasses` (int32 where a folder has more than 256 classes). */
  labels: Uint8Array | Int32Array;
  /** The number of images. */
  count: number;
  /** Image height in pixels. */
  height: number;
  /** Image width in pixels. */
  width: number;
  /** Channels per pixel: 1 (grey) or 3 (RGB). */
  channels: number;
}

/** A dataset in memory: its training and test splits and their common shape. */
export interface Dataset {
  /** Which dataset this is. */
  name: DatasetName;
  /** The training split. */
  train: Split;
  /** The test split. */
  test: Split;
  /** Image height in pixels. */
  height: number;
  /** Image width in pixels. */
  width: number;
  /** Channels per pixel. */
  channels: number;
  /** The number of classes; every label is below it. */
  numClasses: number;
  /** Class names, by label. */
  labels: readonly string[];
}

/** The four standard MNIST-style file names, without `.gz`. */
const IDX_FILES = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
} as const;

const IDX_FILE_LIST = [IDX_FILES.train.images, IDX_FILES.train.labels, IDX_FILES.test.images, IDX_FILES.test.labels]
  .map((f) => `${f}.gz`)
  .join(', ');

const CIFAR10_TRAIN = [
  'data_batch_1.bin',
  'data_batch_2.bin',
  'data_batch_3.bin',
  'data_batch_4.bin',
  'data_batch_5.bin',
];
const CIFAR10_TEST = ['test_batch.bin'];
const CIFAR100_TRAIN = ['train.bin'];
const CIFAR100_TEST = ['test.bin'];

/** Everything that differs between datasets, as data: one row per dataset. */
interface DatasetSpec {
  format: 'idx' | CifarVariant;
  height: number;
  width: number;
  channels: number;
  numClasses: number;
  /** The folder used when none is given; only Fashion-MNIST has a package that puts it somewhere known. */
  defaultDir?: string;
  /** How to get the files, appended to every "missing file" error. */
  howToGet: string;
}

const SPECS: Readonly<Record<DatasetName, DatasetSpec>> = {
  'fashion-mnist': {
    format: 'idx',
    height: 28,
    width: 28,
    channels: 1,
    numClasses: 10,
    defaultDir: DEFAULT_FASHION_MNIST_DIR,
    howToGet:
      `Install it with \`apt-get install dataset-fashion-mnist\` (into ${DEFAULT_FASHION_MNIST_DIR}), ` +
      `or pass --data DIR with a folder holding ${IDX_FILE_LIST} (gzipped or not).`,
  },
  mnist: {
    format: 'idx',
    height: 28,
    width: 28,
    channels: 1,
    numClasses: 10,
    howToGet:
      `MNIST has no default folder: pass --data DIR with a folder holding the four standard MNIST files ` +
      `${IDX_FILE_LIST} (gzipped or not).`,
  },
  cifar10: {
    format: 'cifar10',
    height: 32,
    width: 32,
    channels: 3,
    numClasses: 10,
    howToGet:
      `CIFAR-10 has no default folder: pass --data DIR with the folder extracted from cifar-10-binary.tar.gz ` +
      `(cifar-10-batches-bin/, from https://www.cs.toronto.edu/~kriz/cifar.html), holding ` +
      `${[...CIFAR10_TRAIN, ...CIFAR10_TEST].join(', ')}.`,
  },
  cifar100: {
    format: 'cifar100',
    height: 32,
    width: 32,
    channels: 3,
    numClasses: 100,
    howToGet:
      `CIFAR-100 has no default folder: pass --data DIR with the folder extracted from cifar-100-binary.tar.gz ` +
      `(cifar-100-binary/, from https://www.cs.toronto.edu/~kriz/cifar.html), holding ` +
      `${[...CIFAR100_TRAIN, ...CIFAR100_TEST].join(', ')}.`,
  },
};

/** Whether something exists at `path` and is a file (resp. a directory). */
async function statKind(path: string): Promise<'file' | 'directory' | 'other' | 'missing'> {
  try {
    const s = await stat(path);
    return s.isFile() ? 'file' : s.isDirectory() ? 'directory' : 'other';
  } catch {
    return 'missing';
  }
}

/** The first of `candidates` that is a file; otherwise an error listing every path looked at. */
async function locate(name: DatasetName, candidates: readonly string[], howToGet: string): Promise<string> {
  for (const path of candidates) {
    if ((await statKind(path)) === 'file') return path;
  }
  throw new DatasetError({
    source: name,
    field: 'file',
    expected: candidates.join(' or '),
    received: 'no such file',
    hint: howToGet,
  });
}

/** Reads one MNIST-style split (images and labels) and checks the two files agree with each other and the spec. */
async function loadIdxSplit(
  name: DatasetName,
  spec: DatasetSpec,
  dir: string,
  files: { images: string; labels: string },
): Promise<Split> {
  // Accept the gzipped names the datasets ship with and the names they have once unpacked.
  const [imagesPath, labelsPath] = await Promise.all([
    locate(name, [join(dir, `${files.images}.gz`), join(dir, files.images)], spec.howToGet),
    locate(name, [join(dir, `${files.labels}.gz`), join(dir, files.labels)], spec.howToGet),
  ]);
  const [images, labels] = await Promise.all([readIdxFile(imagesPath), readIdxFile(labelsPath)]);
  const { height, width, channels, numClasses } = spec;
  if (images.dims.length !== 3 || images.dims[1] !== height || images.dims[2] !== width) {
    throw new DatasetError({
      source: imagesPath,
      field: 'image dimensions',
      expected: `[count, ${height}, ${width}] (magic 0x00000803)`,
      received: `[${images.dims.join(', ')}]`,
    });
  }
  if (labels.dims.length !== 1) {
    throw new DatasetError({
      source: labelsPath,
      field: 'label dimensions',
      expected: '[count] (magic 0x00000801)',
      received: `[${labels.dims.join(', ')}]`,
    });
  }
  const count = images.dims[0]!;
  if (labels.dims[0] !== count) {
    throw new DatasetError({
      source: labelsPath,
      field: 'label count',
      expected: `${count}, the image count of ${imagesPath}`,
      received: String(labels.dims[0]),
    });
  }
  if (count === 0) {
    throw new DatasetError({ source: imagesPath, field: 'image count', expected: 'at least 1', received: '0' });
  }
  checkLabels(labels.data, numClasses, labelsPath);
  return { images: images.data, labels: labels.data, count, height, width, channels };
}

/** Throws on the first label that is not a class index. */
function checkLabels(labels: Uint8Array, numClasses: number, source: string): void {
  for (let i = 0; i < labels.length; i++) {
    if (labels[i]! >= numClasses) {
      throw new DatasetError({
        source,
        field: `label ${i}`,
        expected: `a class index below ${numClasses}`,
        received: String(labels[i]),
      });
    }
  }
}

/** Reads one CIFAR split from its files, in order. */
async function loadCifarSplit(
  name: DatasetName,
  spec: DatasetSpec,
  variant: CifarVariant,
  dir: string,
  files: readonly string[],
): Promise<Split> {
  const paths = await Promise.all(files.map((f) => locate(name, [join(dir, f)], spec.howToGet)));
  const parts: CifarRecords[] = await Promise.all(paths.map((p) => readCifarFile(p, variant)));
  const { images, labels, count } = concatCifar(parts);
  return { images, labels, count, height: spec.height, width: spec.width, channels: spec.channels };
}

/**
 * Loads a dataset's training and test splits into memory, as HWC bytes and class labels.
 *
 * @param name - the dataset; an unknown name (from a CLI) is an error listing the known ones.
 * @param dir - the folder holding the standard files. Required except for Fashion-MNIST, which defaults to
 *   {@link DEFAULT_FASHION_MNIST_DIR}. MNIST-style files may be gzipped or not.
 * @throws {@link DatasetError} when a file is missing (naming the paths looked at and how to get the dataset),
 *   truncated or malformed, when image and label counts disagree, or when a label is out of range.
 */
export async function loadDataset(name: DatasetName, dir?: string): Promise<Dataset> {
  if (!Object.hasOwn(SPECS, name)) {
    throw new DatasetError({
      source: 'loadDataset',
      field: 'dataset name',
      expected: `one of ${DATASET_NAMES.join(', ')}`,
      received: JSON.stringify(name),
    });
  }
  const spec = SPECS[name];
  const folder = dir ?? spec.defaultDir;
  if (folder === undefined) {
    throw new DatasetError({
      source: name,
      field: 'data folder',
      expected: 'a folder holding the dataset files',
      received: 'none given',
      hint: spec.howToGet,
    });
  }
  const kind = await statKind(folder);
  if (kind !== 'directory') {
    throw new DatasetError({
      source: name,
      field: 'data folder',
      expected: `a folder at ${folder}`,
      received: kind === 'missing' ? 'nothing there' : `a ${kind}`,
      hint: spec.howToGet,
    });
  }
  const format = spec.format;
  const [train, test] =
    format === 'idx'
      ? await Promise.all([
          loadIdxSplit(name, spec, folder, IDX_FILES.train),
          loadIdxSplit(name, spec, folder, IDX_FILES.test),
        ])
      : await Promise.all([
          loadCifarSplit(name, spec, format, folder, format === 'cifar10' ? CIFAR10_TRAIN : CIFAR100_TRAIN),
          loadCifarSplit(name, spec, format, folder, format === 'cifar10' ? CIFAR10_TEST : CIFAR100_TEST),
        ]);
  return {
    name,
    train,
    test,
    height: spec.height,
    width: spec.width,
    channels: spec.channels,
    numClasses: spec.numClasses,
    labels: DATASET_LABELS[name],
  };
}
