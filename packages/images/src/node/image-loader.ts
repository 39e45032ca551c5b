// Cached images to batches for training: all held in memory when they fit the memory budget, otherwise read from
// the cache as needed, a few batches ahead of the consumer. Either way the time the consumer waited for a batch is
// measured, so that a run can print the share of a step spent waiting for data.
import type { DecodeCache, ImageList } from './decode-cache.js';
import type { ImageFile } from './image-folder.js';

/** Options of {@link ImageLoader.open}. */
export interface ImageLoaderOptions {
  /** Bytes the loader may hold: at most this many bytes of pixels are held in memory, else it streams. */
  readonly memoryBudgetBytes: number;
  /** Batches read ahead of the consumer when streaming; default 4. */
  readonly prefetchBatches?: number;
}

/** A batch: images stacked NHWC uint8, their labels and their indices in the file list. */
export interface ImageBatch {
  readonly count: number;
  readonly pixels: Uint8Array;
  readonly labels: Int32Array;
  readonly indices: readonly number[];
}

/** What the consumers of a loader waited. */
export interface LoaderWaitStats {
  /** Batches handed over. */
  readonly batches: number;
  /** Milliseconds consumers spent between asking for a batch and getting it. */
  readonly waitMs: number;
}

/** Reads of the cache in flight at once while loading everything into memory. */
const LOAD_READS = 32;

/**
 * Batches of cached images. Open with {@link ImageLoader.open} on a file list whose images are all in the cache
 * (the `files` of a fill's report).
 */
export class ImageLoader<F extends ImageFile = ImageFile> {
  /** `memory`: every image held (the list fits the budget); `stream`: read from the cache, with prefetch. */
  readonly mode: 'memory' | 'stream';
  /** Images in the list. */
  readonly count: number;
  /** Bytes of one image. */
  readonly imageBytes: number;
  private waited = 0;
  private handed = 0;

  private constructor(
    private readonly cache: DecodeCache,
    private readonly list: ImageList<F>,
    private readonly held: Uint8Array | undefined,
    private readonly prefetch: number,
  ) {
    this.mode = held ? 'memory' : 'stream';
    this.count = list.files.length;
    this.imageBytes = cache.imageBytes;
  }

  /** Opens a loader: reads every image into memory if the list fits `memoryBudgetBytes`, else streams. */
  static async open<F extends ImageFile>(
    cache: DecodeCache,
    list: ImageList<F>,
    options: ImageLoaderOptions,
  ): Promise<ImageLoader<F>> {
    const prefetch = options.prefetchBatches ?? 4;
    if (!Number.isInteger(prefetch) || prefetch < 1)
      throw new RangeError(`prefetchBatches: expected an integer >= 1, received ${prefetch}`);
    const total = list.files.length * cache.imageBytes;
    if (total > options.memoryBudgetBytes) return new ImageLoader(cache, list, undefined, prefetch);
    const held = new Uint8Array(total);
    let next = 0;
    const lane = async () => {
      while (next < list.files.length) {
        const i = next++;
        held.set(await cache.read(list.root, list.files[i]!), i * cache.imageBytes);
      }
    };
    await Promise.all(Array.from({ length: Math.min(LOAD_READS, list.files.length) }, lane));
    return new ImageLoader(cache, list, held, prefetch);
  }

  /** The pixels of image `index` of the list (a copy when streaming, a view of the held bytes in memory). */
  async image(index: number): Promise<Uint8Array> {
    const file = this.list.files[index];
    if (!file) throw new RangeError(`image index: expected 0..${this.count - 1}, received ${index}`);
    if (this.held) return this.held.subarray(index * this.imageBytes, (index + 1) * this.imageBytes);
    return this.cache.read(this.list.root, file);
  }

  /** Reads one batch (in memory: copies; streaming: reads its images from the cache concurrently). */
  private async readBatch(indices: readonly number[]): Promise<ImageBatch> {
    const pixels = new Uint8Array(indices.length * this.imageBytes);
    const labels = new Int32Array(indices.length);
    await Promise.all(
      indices.map(async (index, k) => {
        pixels.set(await this.image(index), k * this.imageBytes);
        labels[k] = this.list.files[index]!.label;
      }),
    );
    return { count: indices.length, pixels, labels, indices };
  }

  /**
   * Batches of `batchSize` images (the last may be smaller) in the given order of list indices (an epoch's
   * shuffle). Streaming, up to `prefetchBatches` batches are read ahead of the consumer, from the call on.
   */
  async *batches(order: readonly number[], batchSize: number): AsyncGenerator<ImageBatch> {
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new RangeError(`batchSize: expected an integer >= 1, received ${batchSize}`);
    const slices: number[][] = [];
    for (let i = 0; i < order.length; i += batchSize) slices.push(order.slice(i, i + batchSize));
    const ahead = this.held ? 1 : this.prefetch;
    const queue: Promise<ImageBatch>[] = [];
    let next = 0;
    const fill = () => {
      while (queue.length < ahead && next < slices.length) {
        const batch = this.readBatch(slices[next++]!);
        // A read that fails while queued is reported when its batch is asked for, not as an unhandled rejection.
        batch.catch(() => {});
        queue.push(batch);
      }
    };
    fill();
    while (queue.length > 0) {
      const started = performance.now();
      const batch = await queue.shift()!;
      this.waited += performance.now() - started;
      this.handed++;
      fill();
      yield batch;
    }
  }

  /** What consumers waited since the loader opened or the last {@link ImageLoader.resetWaitStats}. */
  waitStats(): LoaderWaitStats {
    return { batches: this.handed, waitMs: this.waited };
  }

  /** Starts measuring afresh (e.g. at each epoch). */
  resetWaitStats(): void {
    this.waited = 0;
    this.handed = 0;
  }
}
