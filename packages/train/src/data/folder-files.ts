// The file list a folder run trains, validates and tests on, as it records it in <run>/dataset.json: a new run scans
// the folder and splits it (seeded by --seed), less the images that --train-limit and --test-limit leave out and those
// --skip-bad-images skipped; a resumed run reads the list it recorded, whatever happened to the folder since.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createRng, DepthfoldInputError, deriveSeed, type TrainConfig } from '@depthfold/core';
import { writeFileAtomic } from '@depthfold/core/node';
import {
  type BadImage,
  type DatasetDescription,
  type DescribedFile,
  readDatasetDescription,
  scanImageFolder,
  splitImageFolder,
} from '@depthfold/images/node';
import { shuffledOrder } from './batches.js';

/** The test split's share of a folder without test/ where `--test-split` is not given. */
export const DEFAULT_TEST_SPLIT = 0.1;

/** A folder run's file list, and whether it was read back from the run directory. */
export interface FolderFiles {
  description: DatasetDescription;
  /** True when the list is the run's recorded one (a resumed run), false for a new scan. */
  recorded: boolean;
}

/** A seeded subset of `limit` of `files` in their listed order (all of them without a limit). */
function seededSubset(files: DescribedFile[], limit: number | undefined, seed: number, stream: string) {
  if (limit === undefined || limit >= files.length) return files;
  const order = shuffledOrder(files.length, createRng(deriveSeed(seed, stream)).next);
  const kept = new Set(Array.from(order.subarray(0, limit)));
  return files.filter((_, i) => kept.has(i));
}

/**
 * The file list of a folder run. A resumed run (`resuming`) reads `datasetPath`, with its root moved to `--data`
 * where that names another folder; a run that has trained an epoch and recorded none is refused. A new run scans
 * `--data`, splits it (`--validation`, `--test-split`; the folder's own val/ and test/ where it has them) and keeps a
 * seeded subset of `--train-limit` training and `--test-limit` test images.
 *
 * @throws ImageFolderError naming the folder, class or file at fault (no classes, an empty class, a symbolic link
 * loop, a class too small for the split...); DepthfoldInputError naming the option at fault.
 */
export async function folderFiles(
  config: TrainConfig,
  datasetPath: string,
  resuming: { checkpoint: boolean; config: boolean },
): Promise<FolderFiles> {
  if (config.data === undefined)
    throw new DepthfoldInputError('data', 'the folder of images (--data DIR) for --dataset folder', undefined, 'train');
  const root = resolve(config.data);
  if ((resuming.checkpoint || resuming.config) && existsSync(datasetPath)) {
    const description = await readDatasetDescription(datasetPath);
    return { description: { ...description, root }, recorded: true };
  }
  if (resuming.checkpoint)
    throw new Error(
      `train: ${datasetPath} is missing: a folder run resumes on the file list it recorded (start a new --name to list the folder again)`,
    );
  const scan = await scanImageFolder(root);
  const field = (name: 'validation' | 'testSplit', folder: string) => {
    throw new DepthfoldInputError(
      name,
      `no --${name === 'testSplit' ? 'test-split' : name} for a folder with ${folder}/ (its images are that split)`,
      config[name],
      'train',
    );
  };
  if (scan.folders.val && config.validation > 0) field('validation', 'val');
  if (scan.folders.test && config.testSplit !== undefined) field('testSplit', 'test');
  const test = scan.folders.test ? undefined : (config.testSplit ?? DEFAULT_TEST_SPLIT);
  if (test === 0)
    throw new DepthfoldInputError(
      'testSplit',
      `a test split (a count or a fraction; ${DEFAULT_TEST_SPLIT} by default) or a test/ folder in ${root}`,
      0,
      'train',
    );
  const split = splitImageFolder(scan, { seed: config.seed, validation: config.validation, test });
  const bySplit = (name: DescribedFile['split']) => split.files.filter((f) => f.split === name);
  const files = [
    ...seededSubset(bySplit('train'), config.trainLimit, config.seed, 'subset'),
    ...bySplit('validation'),
    // Listed class by class: the first images would be the first classes', so a seeded subset instead.
    ...seededSubset(bySplit('test'), config.testLimit, config.seed, 'test-subset'),
  ];
  return { description: { ...split, files }, recorded: false };
}

/** The description less the `bad` images (paths as listed). */
export function withoutBadImages(description: DatasetDescription, bad: readonly BadImage[]): DatasetDescription {
  if (bad.length === 0) return description;
  const skipped = new Set(bad.map((b) => b.path));
  return { ...description, files: description.files.filter((f) => !skipped.has(f.path)) };
}

/**
 * Writes the skipped images, one `<path relative to the folder>: <reason>` line each, atomically: after the lines the
 * file already holds when `append` (a resumed run skipping more), else in place of them.
 */
export async function writeSkippedImages(path: string, bad: readonly BadImage[], append: boolean): Promise<void> {
  const before = append && existsSync(path) ? await readFile(path, 'utf8') : '';
  await writeFileAtomic(path, before + bad.map((b) => `${b.path}: ${b.reason}\n`).join(''));
}
