// Checks of the options of classify and logits, each failing with an InferInputError that names the option and the
// value at fault (the images' own checks are in image-input.ts).
import { InferInputError } from './errors.js';
import type { PixelLayout } from './classifier.js';

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
