// Pixels to the network's input: x = (pixel / 255 - mean[c]) / std[c], laid out NCHW as one float32 batch.
import type { Normalization } from '@depthfold/core';
import type { ClassifierInfo, PixelLayout, Pixels } from './classifier.js';

/**
 * Normalises a batch of validated images into NCHW float32 data (`images.length * C * H * W` values).
 * @param images - Each `height * width * channels` raw pixels (0..255) in `layout` order.
 */
export function toNchwInput(
  images: readonly Pixels[],
  input: ClassifierInfo['input'],
  normalization: Normalization,
  layout: PixelLayout,
): Float32Array {
  const { height, width, channels } = input;
  const plane = height * width;
  const size = plane * channels;
  const out = new Float32Array(images.length * size);
  // (p / 255 - mean) / std == p * scale + shift: two operations per value instead of three.
  const scale = normalization.std.map((s) => 1 / (255 * s));
  const shift = normalization.mean.map((m, c) => -m / normalization.std[c]);
  images.forEach((image, n) => {
    const base = n * size;
    for (let c = 0; c < channels; c++) {
      const a = scale[c];
      const b = shift[c];
      const dst = base + c * plane;
      if (layout === 'CHW') {
        for (let k = 0; k < plane; k++) out[dst + k] = image[c * plane + k] * a + b;
      } else {
        for (let k = 0; k < plane; k++) out[dst + k] = image[k * channels + c] * a + b;
      }
    }
  });
  return out;
}
