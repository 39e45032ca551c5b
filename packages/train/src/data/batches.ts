/**
 * Deterministic batching on the CPU: shuffling, normalisation x' = (x/255 - mean[c]) / std[c] into NHWC float32,
 * the standard CIFAR augmentation (pad-and-crop, horizontal flip) and random erasing (Zhong et al., "Random Erasing
 * Data Augmentation", AAAI 2020, Alg. 1), in plain typed-array loops.
 */
import type { Split } from './datasets.js';

/** Per-channel normalisation constants, for pixel values scaled to [0, 1]. */
export interface ChannelStats {
  /** Mean of pixel/255 per channel. */
  mean: number[];
  /** Standard deviation of pixel/255 per channel. */
  std: number[];
}

/** Random augmentation applied per image by {@link fillBatch}. */
export interface Augment {
  /** Maximum shift, in pixels, of the random crop from the zero-padded image (4 for CIFAR); 0 for none. */
  padCrop: number;
  /** Whether to flip each image horizontally with probability 0.5. */
  flip: boolean;
  /** Uniform floats in [0, 1), e.g. `() => rng.next()` with `createRng` from `@depthfold/core`; three are drawn per image, see {@link fillBatch}. */
  rng: () => number;
  /** Random erasing, applied after the crop and the flip; omit it (or give probability 0) for none. */
  erasing?: RandomErasing;
}

/** Random erasing of {@link fillBatch}: one rectangle per chosen image, filled with random pixel values. */
export interface RandomErasing {
  /** p, the probability that an image has one rectangle erased, in [0, 1]; 0 draws nothing. */
  probability: number;
  /**
   * Uniform floats in [0, 1), a stream of its own (not {@link Augment.rng}), so the crops and flips of a seed are
   * the same whatever the probability. The number drawn per image varies (see {@link erasingRectangle}).
   */
  rng: () => number;
}

/**
 * The paper's settings (Zhong et al. 2020, Sec. 3.1 and its CIFAR / Fashion-MNIST experiments): the erased area
 * fraction S_e/S ~ U(minArea, maxArea), the aspect ratio r_e = H_e/W_e ~ U(minAspect, 1/minAspect) (uniform, as the
 * paper draws it, not log-uniform as torchvision does). The paper retries until a rectangle fits; we stop after
 * `attempts` tries and leave the image as it is: at 28x28 or 32x32 about 30% of tries fit, so 100 tries all fail
 * about once in 10^15 images.
 */
export const RANDOM_ERASING = Object.freeze({ minArea: 0.02, maxArea: 0.4, minAspect: 0.3, attempts: 100 });

/** An axis-aligned rectangle of an image: rows `y .. y+height-1`, columns `x .. x+width-1`. */
export interface Rectangle {
  y: number;
  x: number;
  height: number;
  width: number;
}

/**
 * One erasing rectangle of an H x W image, by Alg. 1 of Zhong et al. (2020): S_e = U(s_l, s_h) * S,
 * r_e = U(r_1, 1/r_1), H_e = sqrt(S_e * r_e), W_e = sqrt(S_e / r_e) (rounded to whole pixels), a corner (x_e, y_e)
 * uniform over the image, kept when x_e + W_e <= W and y_e + H_e <= H. A rounded rectangle whose area fraction or
 * aspect ratio falls outside the bounds is retried too, so the bounds hold exactly for what is erased. Four `rng`
 * values are drawn per attempt, in order s_e, r_e, x_e, y_e.
 *
 * @param height - H, the image height in pixels.
 * @param width - W, the image width in pixels.
 * @param rng - uniform floats in [0, 1).
 * @returns the rectangle, or undefined when none fitted in {@link RANDOM_ERASING}`.attempts` tries.
 */
export function erasingRectangle(height: number, width: number, rng: () => number): Rectangle | undefined {
  const { minArea, maxArea, minAspect, attempts } = RANDOM_ERASING;
  const area = height * width;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const erasedArea = area * (minArea + (maxArea - minArea) * rng());
    const aspect = minAspect + (1 / minAspect - minAspect) * rng();
    const h = Math.round(Math.sqrt(erasedArea * aspect));
    const w = Math.round(Math.sqrt(erasedArea / aspect));
    const x = Math.floor(rng() * width);
    const y = Math.floor(rng() * height);
    if (h < 1 || w < 1 || x + w > width || y + h > height) continue;
    const fraction = (h * w) / area;
    const ratio = h / w;
    if (fraction < minArea || fraction > maxArea || ratio < minAspect || ratio > 1 / minAspect) continue;
    return { y, x, height: h, width: w };
  }
  return undefined;
}

/** Options of {@link fillBatch}. */
export interface FillBatchOptions extends ChannelStats {
  /** Augmentation, for training batches only; omit it for evaluation. */
  augment?: Augment;
}

/**
 * A random permutation of `0 .. count-1` (Fisher–Yates), for one epoch's order.
 *
 * @param count - how many indices.
 * @param rng - uniform floats in [0, 1); the same sequence gives the same order.
 */
export function shuffledOrder(count: number, rng: () => number): Uint32Array {
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}

/**
 * A table from (channel, byte) to the normalised value, so the inner loops do one lookup per value.
 * Entry `c * 256 + v` is `(v / 255 - mean[c]) / std[c]`.
 */
function normalisationTable(mean: readonly number[], std: readonly number[]): Float32Array {
  const table = new Float32Array(mean.length * 256);
  for (let c = 0; c < mean.length; c++) {
    for (let v = 0; v < 256; v++) table[c * 256 + v] = (v / 255 - mean[c]!) / std[c]!;
  }
  return table;
}

function checkArguments(split: Split, indices: ArrayLike<number>, out: Float32Array, opts: FillBatchOptions): void {
  const { channels } = split;
  if (opts.mean.length !== channels || opts.std.length !== channels) {
    throw new RangeError(
      `fillBatch: expected ${channels} mean and std values (one per channel), received ${opts.mean.length} and ${opts.std.length}`,
    );
  }
  for (let c = 0; c < channels; c++) {
    if (!(opts.std[c]! > 0)) throw new RangeError(`fillBatch: expected std[${c}] > 0, received ${opts.std[c]}`);
  }
  const needed = indices.length * split.height * split.width * channels;
  if (out.length < needed) {
    throw new RangeError(
      `fillBatch: expected an output of at least ${needed} floats for ${indices.length} images, received ${out.length}`,
    );
  }
  for (let i = 0; i < indices.length; i++) {
    const index = indices[i]!;
    if (!Number.isInteger(index) || index < 0 || index >= split.count) {
      throw new RangeError(
        `fillBatch: expected image indices in [0, ${split.count}), received ${index} at position ${i}`,
      );
    }
  }
  const padCrop = opts.augment?.padCrop ?? 0;
  if (!Number.isInteger(padCrop) || padCrop < 0) {
    throw new RangeError(`fillBatch: expected augment.padCrop to be a non-negative integer, received ${padCrop}`);
  }
  const erasing = opts.augment?.erasing?.probability ?? 0;
  if (!(erasing >= 0 && erasing <= 1)) {
    throw new RangeError(`fillBatch: expected augment.erasing.probability in [0, 1], received ${erasing}`);
  }
}

/**
 * Writes the images `indices` of `split` into `out` as NHWC float32, `(pixel/255 - mean[c]) / std[c]`.
 *
 * With `augment`, each image is shifted by a random offset (dy, dx), each uniform in [-padCrop, padCrop], as if
 * zero-padded by padCrop pixels and randomly cropped back to size, then flipped horizontally with probability 0.5
 * when `flip` is set. Padding uses raw pixel value 0 (so the normalised value -mean[c]/std[c]), as torchvision's
 * `RandomCrop(padding=...)` does before its `Normalize`. Three `rng` values are drawn per image, in order
 * dy, dx, flip, whatever the options, so a seed gives the same batches whichever augmentations are on.
 *
 * With `augment.erasing` and probability p > 0, each image (after its crop and flip) then has, with probability p
 * (one draw of `erasing.rng`), one rectangle from {@link erasingRectangle} erased. The paper fills it with uniform
 * random values in the pixel range [0, 255]; here each value is v = u * 255 with u uniform in [0, 1) (continuous,
 * not whole pixel values), normalised like a pixel, so the fill is uniform in [-mean[c]/std[c], (1-mean[c])/std[c])
 * per channel, one `erasing.rng` draw per value, in NHWC order. With p = 0 nothing is drawn or changed.
 *
 * @param split - the images to read.
 * @param indices - which images, in batch order.
 * @param out - at least `indices.length * H * W * C` floats; only that prefix is written, so one buffer can
 *   serve a shorter last batch.
 * @param opts - per-channel mean and std (of pixel/255), and the optional augmentation.
 * @throws RangeError when the arguments do not fit the split (a programming error, not a data error).
 */
export function fillBatch(split: Split, indices: ArrayLike<number>, out: Float32Array, opts: FillBatchOptions): void {
  checkArguments(split, indices, out, opts);
  const { images, height: H, width: W, channels: C } = split;
  const table = normalisationTable(opts.mean, opts.std);
  const imageSize = H * W * C;
  const augment = opts.augment;

  if (augment === undefined) {
    for (let b = 0; b < indices.length; b++) {
      const src = indices[b]! * imageSize;
      const dst = b * imageSize;
      for (let k = 0; k < imageSize; k++) out[dst + k] = table[(k % C) * 256 + images[src + k]!]!;
    }
    return;
  }

  const pad = augment.padCrop;
  const erasing = augment.erasing !== undefined && augment.erasing.probability > 0 ? augment.erasing : undefined;
  for (let b = 0; b < indices.length; b++) {
    const dy = Math.floor(augment.rng() * (2 * pad + 1)) - pad;
    const dx = Math.floor(augment.rng() * (2 * pad + 1)) - pad;
    const flip = augment.rng() < 0.5 && augment.flip;
    const src = indices[b]! * imageSize;
    let o = b * imageSize;
    for (let y = 0; y < H; y++) {
      const sy = y + dy;
      for (let x = 0; x < W; x++) {
        // Crop first, then flip the crop, as torchvision's RandomCrop then RandomHorizontalFlip.
        const sx = (flip ? W - 1 - x : x) + dx;
        if (sy < 0 || sy >= H || sx < 0 || sx >= W) {
          for (let c = 0; c < C; c++) out[o++] = table[c * 256]!;
        } else {
          const s = src + (sy * W + sx) * C;
          for (let c = 0; c < C; c++) out[o++] = table[c * 256 + images[s + c]!]!;
        }
      }
    }
    if (erasing !== undefined && erasing.rng() < erasing.probability) {
      const rect = erasingRectangle(H, W, erasing.rng);
      if (rect !== undefined) eraseRectangle(out, b * imageSize, W, C, rect, opts, erasing.rng);
    }
  }
}

/** Fills `rect` of the image at `offset` of `out` with normalised uniform pixel values (see {@link fillBatch}). */
function eraseRectangle(
  out: Float32Array,
  offset: number,
  W: number,
  C: number,
  rect: Rectangle,
  stats: ChannelStats,
  rng: () => number,
): void {
  for (let y = rect.y; y < rect.y + rect.height; y++) {
    let o = offset + (y * W + rect.x) * C;
    for (let x = 0; x < rect.width; x++) {
      for (let c = 0; c < C; c++) out[o++] = (rng() - stats.mean[c]!) / stats.std[c]!;
    }
  }
}

/**
 * Copies the labels of the images `indices` into `out`, int32 as tfjs one-hot encoding wants.
 *
 * @param split - the labels to read.
 * @param indices - which images, in batch order.
 * @param out - at least `indices.length` entries; only that prefix is written.
 */
export function fillLabels(split: Split, indices: ArrayLike<number>, out: Int32Array): void {
  if (out.length < indices.length) {
    throw new RangeError(
      `fillLabels: expected an output of at least ${indices.length} entries, received ${out.length}`,
    );
  }
  for (let i = 0; i < indices.length; i++) out[i] = split.labels[indices[i]!]!;
}

/**
 * Per-channel 256-bin histograms of pixel values, summed image by image: the exact integer sums that
 * {@link channelStats} reduces to a mean and a standard deviation, for images that arrive in batches.
 */
export class ChannelHistogram {
  private readonly counts: Float64Array;

  constructor(readonly channels: number) {
    this.counts = new Float64Array(channels * 256);
  }

  /** Adds HWC pixels of this many channels (any number of whole pixels). */
  add(images: Uint8Array): void {
    const C = this.channels;
    const counts = this.counts;
    for (let k = 0; k < images.length; k++) counts[(k % C) * 256 + images[k]!]!++;
  }

  /** The mean and (population) standard deviation of pixel/255 per channel of everything added. */
  stats(): ChannelStats {
    const mean: number[] = [];
    const std: number[] = [];
    for (let c = 0; c < this.channels; c++) {
      let n = 0;
      let sum = 0;
      let sumSquares = 0;
      for (let v = 0; v < 256; v++) {
        const h = this.counts[c * 256 + v]!;
        n += h;
        sum += h * v;
        sumSquares += h * v * v;
      }
      const m = sum / n;
      // Clamp: rounding can make the variance of a constant channel a hair below zero.
      const variance = Math.max(0, sumSquares / n - m * m);
      mean.push(m / 255);
      std.push(Math.sqrt(variance) / 255);
    }
    return { mean, std };
  }
}

/**
 * The per-channel mean and (population) standard deviation of pixel/255 over a whole split: the constants
 * {@link fillBatch} normalises with. Computed from 256-bin histograms, so the sums are exact integers.
 *
 * @param split - the images, usually the training split.
 */
export function channelStats(split: Split): ChannelStats {
  const histogram = new ChannelHistogram(split.channels);
  histogram.add(split.images);
  return histogram.stats();
}
