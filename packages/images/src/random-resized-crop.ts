// The training-time "random resized crop" of ImageNet recipes (torchvision's RandomResizedCrop.get_params): a
// rectangle of a random share of the area, in [scale[0], scale[1]], and a random aspect ratio, uniform in log space
// over [ratio[0], ratio[1]], placed at random; after 10 failed draws, the centre crop of the image clamped to the
// ratio range. The rectangle is cropped and then resized to the input with the same bilinear kernel as evaluation.
import { DepthfoldInputError, type Preprocessing } from '@depthfold/core';
import { toColour } from './colour.js';
import { roundHalfEven } from './preprocess.js';
import {
  checkRawImage,
  checkSize,
  to8Bit,
  type ImageSize,
  type PreprocessedImage,
  type RawImage,
} from './raw-image.js';
import { type CropRect, cropImage, resizeBilinear } from './resample.js';

/** The ranges a random resized crop draws from; the defaults are ImageNet's. */
export interface RandomResizedCropOptions {
  /** The crop's share of the image's area. Default [0.08, 1]. */
  readonly scale?: readonly [number, number];
  /** The crop's width / height. Default [3/4, 4/3]. */
  readonly ratio?: readonly [number, number];
}

/** A source of uniform numbers in [0, 1), seeded by the caller (e.g. `createRng(seed).next` of @depthfold/core). */
export type UniformRandom = () => number;

const TRIES = 10;

/**
 * The rectangle of a random resized crop of a `width` x `height` image (this file's header gives the recipe). It
 * draws from `random` in torchvision's order: per try the area share, then the log ratio, then, on success, the top
 * and the left edge; whole pixels are rounded as Python's `round()` does (ties to even).
 */
export function randomResizedCropRect(
  width: number,
  height: number,
  random: UniformRandom,
  options: RandomResizedCropOptions = {},
): CropRect {
  checkSize({ width, height }, 'image');
  const [s0, s1] = options.scale ?? [0.08, 1];
  const [r0, r1] = options.ratio ?? [3 / 4, 4 / 3];
  if (!(s0 > 0 && s0 <= s1 && s1 <= 1))
    throw new DepthfoldInputError('randomResizedCrop.scale', '0 < scale[0] <= scale[1] <= 1', [s0, s1]);
  if (!(r0 > 0 && r0 <= r1))
    throw new DepthfoldInputError('randomResizedCrop.ratio', '0 < ratio[0] <= ratio[1]', [r0, r1]);
  const area = width * height;
  const logR0 = Math.log(r0);
  const logR1 = Math.log(r1);
  for (let i = 0; i < TRIES; i++) {
    const target = area * (s0 + (s1 - s0) * random());
    const aspect = Math.exp(logR0 + (logR1 - logR0) * random());
    const w = roundHalfEven(Math.sqrt(target * aspect));
    const h = roundHalfEven(Math.sqrt(target / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const top = Math.floor(random() * (height - h + 1));
      const left = Math.floor(random() * (width - w + 1));
      return { left, top, width: w, height: h };
    }
  }
  // Fallback: the centre crop, the whole image unless its aspect ratio lies outside the range.
  const inRatio = width / height;
  let w = width;
  let h = height;
  if (inRatio < r0) h = roundHalfEven(w / r0);
  else if (inRatio > r1) w = roundHalfEven(h * r1);
  return { left: Math.floor((width - w) / 2), top: Math.floor((height - h) / 2), width: w, height: h };
}

/**
 * A random resized crop of decoded pixels: steps 1-2 of the preprocessing (8-bit, alpha flattened, colour), then a
 * {@link randomResizedCropRect} of the image cropped and resized to `size` by the same kernel as
 * {@link preprocessImage}. Deterministic for a seeded `random`.
 */
export function randomResizedCrop(
  image: RawImage,
  preprocessing: Preprocessing,
  size: ImageSize,
  random: UniformRandom,
  options: RandomResizedCropOptions = {},
): PreprocessedImage {
  checkRawImage(image);
  checkSize(size, 'size');
  const rect = randomResizedCropRect(image.width, image.height, random, options);
  const coloured = toColour(to8Bit(image), preprocessing.colour, preprocessing.background);
  const out = resizeBilinear(cropImage(coloured, rect), size);
  return {
    height: size.height,
    width: size.width,
    channels: coloured.channels === 1 ? 1 : 3,
    data: out.data as Uint8Array,
  };
}
