// RGBA images (a canvas's ImageData) as decoded pixels of 4 channels: the model's preprocessing then flattens their
// alpha, converts their colour and resizes them, as it does every other image's.
import type { RawImage } from '@depthfold/images';

/** What `ImageData` is, structurally: so the conversion runs (and is tested) where no DOM exists. */
export interface RgbaImage {
  /** `width * height * 4` bytes, R, G, B, A per pixel, row by row, not premultiplied. */
  readonly data: Uint8ClampedArray;
  readonly width: number;
  readonly height: number;
}

/** True for an ImageData or an object shaped like one (a Uint8ClampedArray `data`, a width, a height, no channels). */
export function isRgbaImage(value: unknown): value is RgbaImage {
  if (value === null || typeof value !== 'object' || 'channels' in value) return false;
  const { data, width, height } = value as Partial<RgbaImage>;
  return data instanceof Uint8ClampedArray && typeof width === 'number' && typeof height === 'number';
}

/** The same pixels as a {@link RawImage} of 4 channels (no copy). */
export function rgbaToRaw(image: RgbaImage): RawImage {
  return { width: image.width, height: image.height, channels: 4, data: image.data };
}
