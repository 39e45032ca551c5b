// The file list a run trains on: a scanned folder split into train, validation and test, recorded in the run
// directory so that a resumed run reads the same files with the same labels and splits, whatever happened to the
// folder since. What happens when the folder changes:
//   - files added after the list was recorded are not seen by the run (a new run lists them);
//   - a file changed or deleted keeps its decoded entry in the cache, which is keyed by the recorded path, size and
//     mtime, so the run goes on with the pixels it started with;
//   - a changed or deleted file whose entry is not in the cache (the cache was removed) cannot be decoded as listed:
//     the cache fill stops naming the file, or skips and lists it with `skipBadImages`.
//   `datasetChanges` says which listed files differ from the folder now.
// The split is seeded and stable: each file's place in its class's order is a hash of (seed, path), so the same seed
// gives the same split, and adding a file to a folder moves no other file between splits unless the counts change.
import { stat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DepthfoldInputError, createRng, deriveSeed, parseWith } from '@depthfold/core';
import { writeFileAtomic } from '@depthfold/core/node';
import { z } from 'zod';
import { ImageFolderError } from '../errors.js';
import type { ImageFile, ImageFolderScan } from './image-folder.js';

/** The splits of a dataset. */
export const DATASET_SPLITS = ['train', 'validation', 'test'] as const;

/** A split of {@link DATASET_SPLITS}. */
export type DatasetSplit = (typeof DATASET_SPLITS)[number];

/** How a pool of images is split (used for the splits that the folder does not hold as val/ or test/). */
export interface SplitOptions {
  /** Seeds the split: the same seed, the same split. */
  readonly seed: number;
  /** Validation images: a count (an integer >= 1) or a fraction in (0, 1); 0 or absent for none. */
  readonly validation?: number;
  /** Test images: a count or a fraction, as `validation`. */
  readonly test?: number;
  /**
   * Stratified (default): each class gives its share of the held-out images, at least one per split, so a class
   * needs at least one image per split (the total may exceed the count by the classes rounded up to one). Not
   * stratified: the held-out images are the first of the whole pool in seeded order (Keras's validation_split);
   * every class must keep at least one training image.
   */
  readonly stratified?: boolean;
}

const fileSchema = z.object({
  path: z.string().min(1),
  label: z.number().int().min(0),
  split: z.enum(DATASET_SPLITS),
  size: z.number().int().min(0),
  mtimeMs: z.number(),
});

/** The recorded file list of a dataset (schema of {@link DatasetDescription}). */
export const datasetDescriptionSchema = z.object({
  format: z.literal('depthfold-image-folder'),
  version: z.literal(1),
  /** The folder, absolute. */
  root: z.string().min(1),
  layout: z.enum(['classes', 'splits']),
  classes: z.array(z.string().min(1)).min(2),
  /** The split options used for the splits the folder did not hold. */
  split: z.object({
    seed: z.number().int(),
    validation: z.number().min(0),
    test: z.number().min(0),
    stratified: z.boolean(),
  }),
  files: z.array(fileSchema),
  /** How many files the scan ignored (not images by extension, hidden...). */
  ignored: z.number().int().min(0),
});

/** One listed image and its split. */
export type DescribedFile = z.output<typeof fileSchema>;

/** The recorded file list of a dataset: root, classes, and every image with its label, split, size and mtime. */
export type DatasetDescription = z.output<typeof datasetDescriptionSchema>;

/** A held-out amount as a count of `n` images: fractions are rounded half up. */
function countOf(amount: number | undefined, n: number, field: string): number {
  if (amount === undefined || amount === 0) return 0;
  if (amount > 0 && amount < 1) return Math.round(amount * n);
  if (Number.isInteger(amount) && amount >= 1) return amount;
  throw new DepthfoldInputError(field, 'a count (an integer >= 1) or a fraction in (0, 1)', amount);
}

/** `total` shared in proportion to `sizes`, largest remainders first (ties to the lower index). */
function allocate(total: number, sizes: readonly number[]): number[] {
  const n = sizes.reduce((a, b) => a + b, 0);
  const exact = sizes.map((s) => (total * s) / n);
  const out = exact.map(Math.floor);
  let left = total - out.reduce((a, b) => a + b, 0);
  const order = exact.map((e, i) => ({ i, r: e - Math.floor(e) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (let k = 0; left > 0; k++, left--) out[order[k % order.length]!.i]! += 1;
  return out;
}

/** Files in seeded order: by a hash of (seed, path), ties by path. */
function seededOrder(files: readonly ImageFile[], seed: number): ImageFile[] {
  const keyed = files.map((f) => ({ f, k: createRng(deriveSeed(seed, f.path)).next() }));
  keyed.sort((a, b) => a.k - b.k || (a.f.path < b.f.path ? -1 : 1));
  return keyed.map((x) => x.f);
}

/**
 * Splits a scanned folder into train, validation and test (this file's header says how) and returns the description
 * to record. Splits that the folder holds (val/, test/) are taken as they are; the options split train/ for those it
 * lacks.
 *
 * @throws {@link ImageFolderError} naming a class with fewer images than the split needs, or an impossible amount.
 */
export function splitImageFolder(scan: ImageFolderScan, options: SplitOptions): DatasetDescription {
  const stratified = options.stratified ?? true;
  const pool = scan.folders.train;
  const valCount = scan.folders.val ? 0 : countOf(options.validation, pool.length, 'validation');
  const testCount = scan.folders.test ? 0 : countOf(options.test, pool.length, 'test');
  const classPath = (label: number) => join(scan.root, scan.layout === 'splits' ? 'train' : '', scan.classes[label]!);
  const assigned = new Map<ImageFile, DatasetSplit>();
  if (valCount + testCount >= pool.length && valCount + testCount > 0)
    throw new ImageFolderError(
      scan.layout === 'splits' ? join(scan.root, 'train') : scan.root,
      `${pool.length} images cannot give ${valCount} for validation and ${testCount} for test and keep some for training`,
    );
  const byClass = scan.classes.map((_, label) => pool.filter((f) => f.label === label));
  if (stratified) {
    const sizes = byClass.map((files) => files.length);
    const val = allocate(valCount, sizes).map((k) => (valCount > 0 ? Math.max(1, k) : 0));
    const test = allocate(testCount, sizes).map((k) => (testCount > 0 ? Math.max(1, k) : 0));
    byClass.forEach((files, label) => {
      const v = val[label]!;
      const t = test[label]!;
      if (files.length < v + t + 1)
        throw new ImageFolderError(
          classPath(label),
          `class "${scan.classes[label]}" has ${files.length} image${files.length === 1 ? '' : 's'}; the split needs at least ${v + t + 1} (1 for training${v ? `, ${v} for validation` : ''}${t ? `, ${t} for test` : ''})`,
        );
      seededOrder(files, options.seed).forEach((f, i) =>
        assigned.set(f, i < v ? 'validation' : i < v + t ? 'test' : 'train'),
      );
    });
  } else {
    seededOrder(pool, options.seed).forEach((f, i) =>
      assigned.set(f, i < valCount ? 'validation' : i < valCount + testCount ? 'test' : 'train'),
    );
    byClass.forEach((files, label) => {
      if (!files.some((f) => assigned.get(f) === 'train'))
        throw new ImageFolderError(
          classPath(label),
          `class "${scan.classes[label]}" has ${files.length} image${files.length === 1 ? '' : 's'}, all held out by the unstratified split: none left for training`,
        );
    });
  }
  const files: DescribedFile[] = [
    ...pool.map((f) => ({ ...f, split: assigned.get(f)! })),
    ...(scan.folders.val ?? []).map((f) => ({ ...f, split: 'validation' as const })),
    ...(scan.folders.test ?? []).map((f) => ({ ...f, split: 'test' as const })),
  ];
  return {
    format: 'depthfold-image-folder',
    version: 1,
    root: scan.root,
    layout: scan.layout,
    classes: [...scan.classes],
    split: { seed: options.seed, validation: options.validation ?? 0, test: options.test ?? 0, stratified },
    files,
    ignored: scan.ignored.length,
  };
}

/** The files of one split, in listed order. */
export function filesOf(description: DatasetDescription, split: DatasetSplit): DescribedFile[] {
  return description.files.filter((f) => f.split === split);
}

/** Writes a description as JSON, atomically (temp file + rename). */
export async function writeDatasetDescription(path: string, description: DatasetDescription): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(description, null, 1)}\n`);
}

/** Reads and validates a description written by {@link writeDatasetDescription}; errors name the file and field. */
export async function readDatasetDescription(path: string): Promise<DatasetDescription> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ImageFolderError(path, `cannot read the dataset description (${(error as NodeJS.ErrnoException).code})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ImageFolderError(path, `not JSON (${(error as Error).message})`);
  }
  return parseWith(datasetDescriptionSchema, value, path);
}

/** Listed files that differ from the folder now. */
export interface DatasetChanges {
  /** Paths whose size or mtime changed since they were listed. */
  readonly changed: string[];
  /** Paths that no longer exist. */
  readonly missing: string[];
}

/** Compares a description with its folder now (stat only; new files are not looked for). */
export async function datasetChanges(description: DatasetDescription): Promise<DatasetChanges> {
  const changed: string[] = [];
  const missing: string[] = [];
  for (const f of description.files) {
    try {
      const s = await stat(join(description.root, f.path));
      if (s.size !== f.size || s.mtimeMs !== f.mtimeMs) changed.push(f.path);
    } catch {
      missing.push(f.path);
    }
  }
  return { changed, missing };
}
