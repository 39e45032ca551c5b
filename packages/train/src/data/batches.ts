/**
 * Deterministic batching on the CPU: shuffling, normalisation x' = (x/255 - mean[c]) / std[c] into NHWC float32,
 * and the standard CIFAR augmentation (pad-and-crop, horizontal flip), in plain typed-array loops.
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
    const t = order[i];
    order[i] = order[j];
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
    for (let v = 0; v < 256; v++) table[c * 256 + v] = (v / 255 - mean[c]) / std[c];
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
    if (!(opts.std[c] > 0)) throw new RangeError(`fillBatch: expected std[${c}] > 0, received ${opts.std[c]}`);
  }
  const needed = indices.length * split.height * split.width * channels;
  if (out.length < needed) {
    throw new RangeError(`fillBatch: expected an output of at least ${needed} floats for ${indices.length} images, received ${out.length}`);
  }
  for (let i = 0; i < indices.length; i++) {
    const index = indices[i];
    if (!Number.isInteger(index) || index < 0 || index >= split.count) {
      throw new RangeError(`fillBatch: expected image indices in [0, ${split.count}), received ${index} at position ${i}`);
    }
  }
  const padCrop = opts.augment?.padCrop ?? 0;
  if (!Number.isInteger(padCrop) || padCrop < 0) {
    throw new RangeError(`fillBatch: expected augment.padCrop to be a non-negative integer, received ${padCrop}`);
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
      const src = indices[b] * imageSize;
      const dst = b * imageSize;
      for (let k = 0; k < imageSize; k++) out[dst + k] = table[(k % C) * 256 + images[src + k]];
    }
    return;
  }

  const pad = augment.padCrop;
  for (let b = 0; b < indices.length; b++) {
    const dy = Math.floor(augment.rng() * (2 * pad + 1)) - pad;
    const dx = Math.floor(augment.rng() * (2 * pad + 1)) - pad;
    const flip = augment.rng() < 0.5 && augment.flip;
    const src = indices[b] * imageSize;
    let o = b * imageSize;
    for (let y = 0; y < H; y++) {
      const sy = y + dy;
      for (let x = 0; x < W; x++) {
        // Crop first, then flip the crop, as torchvision's RandomCrop then RandomHorizontalFlip.
        const sx = (flip ? W - 1 - x : x) + dx;
        if (sy < 0 || sy >= H || sx < 0 || sx >= W) {
          for (let c = 0; c < C; c++) out[o++] = table[c * 256];
        } else {
          const s = src + (sy * W + sx) * C;
          for (let c = 0; c < C; c++) out[o++] = table[c * 256 + images[s + c]];
        }
      }
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
    throw new RangeError(`fillLabels: expected an output of at least ${indices.length} entries, received ${out.length}`);
  }
  for (let i = 0; i < indices.length; i++) out[i] = split.labels[indices[i]];
}

/**
 * The per-channel mean and (population) standard deviation of pixel/255 over a whole split: the constants
 * {@link fillBatch} normalises with. Computed from 256-bin histograms, so the sums are exact integers.
 *
 * @param split - the images, usually the training split.
 */
export function channelStats(split: Split): ChannelStats {
  const C = split.channels;
  const histogram = new Float64Array(C * 256);
  const { images } = split;
  for (let k = 0; k < images.length; k++) histogram[(k % C) * 256 + images[k]]++;
  const mean: number[] = [];
  const std: number[] = [];
  for (let c = 0; c < C; c++) {
    let n = 0;
    let sum = 0;
    let sumSquares = 0;
    for (let v = 0; v < 256; v++) {
      const h = histogram[c * 256 + v];
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
