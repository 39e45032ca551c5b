// Pixels to the network's input: x = (pixel / 255 - mean[c]) / std[c], laid out NCHW as one float32 batch. The
// normalisation is its own step so that @depthfold/serve, whose UINT8 requests arrive as NCHW pixels already, applies
// exactly this arithmetic and its logits are those of `classify` on the same pixels.
import type { Normalization } from '@depthfold/core';
import type { ClassifierInfo, PixelLayout, Pixels } from './classifier.js';
import { describeType, InferInputError } from './errors.js';

/** An image's size: what {@link normalizePixelsInPlace} needs to find each channel's plane. */
export type ImageShape = ClassifierInfo['input'];

/**
 * Normalises NCHW raw pixels (0..255) in place: each value of channel c becomes `(p / 255 - mean[c]) / std[c]`,
 * computed as `p * a + b` (two operations instead of three) in double precision and rounded once to float32, as
 * `classify` does.
 * @param data - `N * channels * height * width` pixel values, image after image, each channel's plane after the other.
 * @returns `data`, normalised.
 * @throws InferInputError when `data` is not a Float32Array of whole images, or `normalization` lacks a channel.
 */
export function normalizePixelsInPlace(
  data: Float32Array,
  input: ImageShape,
  normalization: Normalization,
): Float32Array {
  const { height, width, channels } = input;
  const plane = height * width;
  const size = plane * channels;
  if (!(data instanceof Float32Array))
    throw new InferInputError('data', 'a Float32Array of NCHW pixels', describeType(data));
  if (size === 0 || data.length % size !== 0) {
    throw new InferInputError(
      'data',
      `a multiple of ${size} values (images of ${channels}x${height}x${width}, NCHW)`,
      data.length,
    );
  }
  for (const key of ['mean', 'std'] as const) {
    if (normalization[key].length !== channels) {
      throw new InferInputError(
        `normalization.${key}`,
        `${channels} values (one per channel)`,
        normalization[key].length,
      );
    }
  }
  const scale = normalization.std.map((s) => 1 / (255 * s));
  const shift = normalization.mean.map((m, c) => -m / normalization.std[c]!);
  for (let base = 0; base < data.length; base += size) {
    for (let c = 0; c < channels; c++) {
      const a = scale[c]!;
      const b = shift[c]!;
      const end = base + (c + 1) * plane;
      for (let k = base + c * plane; k < end; k++) data[k] = data[k]! * a + b;
    }
  }
  return data;
}

/**
 * Normalises a batch of validated images into NCHW float32 data (`images.length * C * H * W` values).
 * @param images - Each `height * width * channels` raw pixels (0..255) in `layout` order.
 */
export function toNchwInput(
  images: readonly Pixels[],
  input: ImageShape,
  normalization: Normalization,
  layout: PixelLayout,
): Float32Array {
  const { height, width, channels } = input;
  const plane = height * width;
  const size = plane * channels;
  const out = new Float32Array(images.length * size);
  // Raw pixels are integers 0..255 (or float32 values), so this copy into float32 is exact and the normalisation
  // after it gives the bits that normalising straight from the image would.
  images.forEach((image, n) => {
    if (layout === 'CHW') out.set(image, n * size);
    else {
      const base = n * size;
      for (let c = 0; c < channels; c++) {
        for (let k = 0; k < plane; k++) out[base + c * plane + k] = image[k * channels + c]!;
      }
    }
  });
  return normalizePixelsInPlace(out, input, normalization);
}
