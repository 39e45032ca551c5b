// RGBA images (a canvas's ImageData) to the model's channels: grey models take the luminance
// Y = 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601), colour models take R, G, B; alpha is ignored.
import { InferInputError } from './errors.js';
import type { ClassifierInfo, PixelLayout, Pixels } from './classifier.js';

/** What `ImageData` is, structurally: so the conversion runs (and is tested) where no DOM exists. */
export interface RgbaImage {
  /** `width * height * 4` bytes, R, G, B, A per pixel, row by row. */
  readonly data: Uint8ClampedArray;
  readonly width: number;
  readonly height: number;
}

/** True for an ImageData or an object shaped like one. */
export function isRgbaImage(value: unknown): value is RgbaImage {
  if (value === null || typeof value !== 'object') return false;
  const { data, width, height } = value as Partial<RgbaImage>;
  return data instanceof Uint8ClampedArray && typeof width === 'number' && typeof height === 'number';
}

/**
 * The pixels of an RGBA image in the model's channels and `layout` order, 0..255.
 * Grey pixels (R = G = B) pass unchanged to a grey model, so a grey ImageData classifies exactly as its bytes do.
 * Alpha is dropped rather than composited: a transparent canvas reads as its RGB (black unless painted), which is
 * the background of the grey datasets.
 * @param field - Names the image in errors, e.g. `images[2]`.
 * @throws InferInputError when the size differs from the model's or the model has neither 1 nor 3 channels.
 */
export function rgbaToPixels(
  image: RgbaImage,
  input: ClassifierInfo['input'],
  layout: PixelLayout,
  field: string,
): Pixels {
  const { height, width, channels } = input;
  if (image.width !== width || image.height !== height) {
    throw new InferInputError(
      field,
      `an ImageData of ${width}x${height} (width x height, the model's size)`,
      `${image.width}x${image.height}`,
    );
  }
  const plane = width * height;
  if (image.data.length !== plane * 4) {
    throw new InferInputError(`${field}.data`, `${plane * 4} bytes (RGBA ${width}x${height})`, image.data.length);
  }
  const rgba = image.data;
  if (channels === 1) {
    const grey = new Float32Array(plane);
    for (let k = 0; k < plane; k++) {
      const r = rgba[4 * k]!;
      const g = rgba[4 * k + 1]!;
      const b = rgba[4 * k + 2]!;
      grey[k] = r === g && g === b ? r : 0.299 * r + 0.587 * g + 0.114 * b;
    }
    return grey;
  }
  if (channels === 3) {
    const rgb = new Uint8Array(plane * 3);
    for (let k = 0; k < plane; k++) {
      for (let c = 0; c < 3; c++) rgb[layout === 'HWC' ? 3 * k + c : c * plane + k] = rgba[4 * k + c]!;
    }
    return rgb;
  }
  throw new InferInputError(
    field,
    `raw pixels: an ImageData converts to 1 (grey) or 3 (RGB) channels, the model takes ${channels}`,
    'an ImageData',
  );
}
