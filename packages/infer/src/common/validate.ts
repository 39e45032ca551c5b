// Checks of what callers pass to classify and logits, each failing with an InferInputError that names the image
// (and the value) at fault, so a bad batch is found without a debugger.
import { describeType, InferInputError } from './errors.js';
import type { ClassifierInfo, Images, PixelLayout, Pixels } from './classifier.js';
import { isRgbaImage, rgbaToPixels } from './rgba-image.js';

/** The layouts `classify` accepts. */
export const PIXEL_LAYOUTS: readonly PixelLayout[] = ['HWC', 'CHW'];

/** The layout option, defaulting to HWC. */
export function checkLayout(layout: unknown): PixelLayout {
  if (layout === undefined) return 'HWC';
  if (!(PIXEL_LAYOUTS as readonly unknown[]).includes(layout)) {
    throw new InferInputError('layout', PIXEL_LAYOUTS.map((l) => JSON.stringify(l)).join(' or '), layout);
  }
  return layout as PixelLayout;
}

/** The topK option: an integer from 1 to the number of classes; default 3 (capped by the number of classes). */
export function checkTopK(topK: unknown, numClasses: number): number {
  if (topK === undefined) return Math.min(3, numClasses);
  if (typeof topK !== 'number' || !Number.isInteger(topK) || topK < 1 || topK > numClasses) {
    throw new InferInputError('topK', `an integer from 1 to ${numClasses} (the number of classes)`, topK);
  }
  return topK;
}

/**
 * A batch of images, each a Uint8Array or Float32Array of exactly height * width * channels values in 0..255, or
 * (where `rgba` is set, as on the web) an ImageData of the model's size, converted to `layout`. A single image is a
 * batch of one.
 */
export function checkImages(
  images: Images<unknown>,
  input: ClassifierInfo['input'],
  layout: PixelLayout,
  rgba = false,
): Pixels[] {
  const batch: readonly unknown[] = Array.isArray(images) ? images : [images];
  if (batch.length === 0) throw new InferInputError('images', 'at least one image', images);
  const { height, width, channels } = input;
  const size = height * width * channels;
  const shape = layout === 'HWC' ? `${height}x${width}x${channels}` : `${channels}x${height}x${width}`;
  const kinds = rgba
    ? 'a Uint8Array or Float32Array of raw pixels, or an ImageData'
    : 'a Uint8Array or Float32Array of raw pixels';
  return batch.map((image, i) => {
    if (rgba && isRgbaImage(image)) return rgbaToPixels(image, input, layout, `images[${i}]`);
    if (!(image instanceof Uint8Array) && !(image instanceof Float32Array)) {
      throw new InferInputError(`images[${i}]`, kinds, describeType(image));
    }
    if (image.length !== size) {
      throw new InferInputError(`images[${i}]`, `${size} pixel values (${layout} ${shape})`, image.length);
    }
    // A Uint8Array holds 0..255 by construction; a Float32Array may hold fractions (an ImageData's luminance, a
    // resized image) but nothing outside 0..255: -1000 or 3.4e38 once went through to the network.
    if (image instanceof Float32Array) {
      for (let j = 0; j < image.length; j++) {
        const v = image[j]!;
        if (!(v >= 0 && v <= 255))
          throw new InferInputError(`images[${i}][${j}]`, 'a finite pixel value (0..255)', String(v));
      }
    }
    return image;
  });
}
