// Random resized crops of a training batch (ImageNet recipes' RandomResizedCrop): each image of the batch, cached at
// the larger source size, cropped by @depthfold/images' randomResizedCrop (torchvision's draws) and resized to the
// input with the same antialiased bilinear kernel as evaluation. Pad-crop, flip and random erasing follow in fillBatch.
import { exactPreprocessing } from '@depthfold/core';
import { type ImageSize, randomResizedCrop } from '@depthfold/images';
import type { SourceBatch } from './batch-source.js';

/**
 * The batch's images as random resized crops of area share in [minScale, 1] and aspect ratio in [3/4, 4/3], resized
 * to `size`, in batch order; `random` (uniform in [0, 1), a stream of its own) is drawn in torchvision's order.
 */
export function randomResizedCropBatch(
  batch: SourceBatch,
  size: ImageSize,
  minScale: number,
  random: () => number,
): SourceBatch {
  const { split, indices } = batch;
  const channels = split.channels as 1 | 3;
  const preprocessing = exactPreprocessing(channels);
  const inBytes = split.height * split.width * channels;
  const outBytes = size.height * size.width * channels;
  const images = new Uint8Array(indices.length * outBytes);
  const labels = new Int32Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!;
    const source = {
      width: split.width,
      height: split.height,
      channels,
      data: split.images.subarray(i * inBytes, (i + 1) * inBytes),
    };
    const crop = randomResizedCrop(source, preprocessing, size, random, { scale: [minScale, 1] });
    images.set(crop.data, k * outBytes);
    labels[k] = split.labels[i]!;
  }
  return {
    split: { images, labels, count: indices.length, height: size.height, width: size.width, channels },
    indices: Array.from({ length: indices.length }, (_, k) => k),
  };
}
