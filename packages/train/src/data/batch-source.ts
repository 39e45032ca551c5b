// The images of one split as a run reads them, batch by batch: a split held in memory (the built-in datasets), or a
// folder's images read through @depthfold/images' loader (held in memory within the budget, else streamed from the
// decode cache with prefetch). Either way a batch is an in-memory Split and the positions to read in it, so that
// fillBatch (normalisation, pad-crop, flip, random erasing) draws the same numbers for the same images.
import type { ImageLoader } from '@depthfold/images/node';
import type { Split } from './datasets.js';

/** One batch of a {@link BatchSource}: `indices` of `split`, in batch order. */
export interface SourceBatch {
  split: Split;
  indices: ArrayLike<number>;
}

/** A split's images, read in batches. */
export interface BatchSource {
  /** Images in the split. */
  readonly count: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  /** `memory`: every image held; `stream`: read from the decode cache as needed. */
  readonly mode: 'memory' | 'stream';
  /** The images `indices` of the split (a subset, an epoch's order) in batches of `batchSize`, the last maybe smaller. */
  batches(indices: ArrayLike<number>, batchSize: number): AsyncGenerator<SourceBatch>;
}

function checkBatchSize(batchSize: number): void {
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RangeError(`batchSize: expected an integer >= 1, received ${batchSize}`);
}

/** A split held in memory: each batch is the split itself and a slice of `indices` (nothing copied). */
export function memorySource(split: Split): BatchSource {
  return {
    count: split.count,
    height: split.height,
    width: split.width,
    channels: split.channels,
    mode: 'memory',
    async *batches(indices, batchSize) {
      checkBatchSize(batchSize);
      const all = Array.from(indices);
      for (let start = 0; start < all.length; start += batchSize)
        yield { split, indices: all.slice(start, start + batchSize) };
    },
  };
}

/** A folder's split read by an {@link ImageLoader}: each batch is a Split of its images, in batch order. */
export function loaderSource(
  loader: ImageLoader,
  shape: { height: number; width: number; channels: number },
): BatchSource {
  return {
    count: loader.count,
    ...shape,
    mode: loader.mode,
    async *batches(indices, batchSize) {
      checkBatchSize(batchSize);
      for await (const batch of loader.batches(Array.from(indices), batchSize)) {
        const split: Split = { images: batch.pixels, labels: batch.labels, count: batch.count, ...shape };
        yield { split, indices: Array.from({ length: batch.count }, (_, i) => i) };
      }
    },
  };
}
