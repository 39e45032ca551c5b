// Preprocessing steps 1-3 (packages/core/src/preprocessing.ts) on decoded pixels: what every runtime runs before
// normalising. The geometry of each resize mode follows torchvision's Resize + CenterCrop, as timm's evaluation
// transform builds them, so that a model preprocessed here also matches a PIL/torchvision pipeline:
//   shorter-side-crop, input h x w, crop fraction f: the side that limits the cover (the larger of h/H and w/W) is
//   resized to floor(side / f), the other to floor(that * other / limiting) (torchvision's int()), at least the
//   input's; the centre h x w is cropped at round((resized - input) / 2), ties to even (Python's round()).
import { DepthfoldInputError, type Preprocessing } from '@depthfold/core';
import { toColour } from './colour.js';
import {
  checkRawImage,
  checkSize,
  to8Bit,
  type ImageSize,
  type PreprocessedImage,
  type RawImage,
} from './raw-image.js';
import { type CropRect, resizeBilinear } from './resample.js';

/** Where an image's pixels go: the whole image is resized to `resized`, and `crop` of that is the input. */
export interface ResizeGeometry {
  readonly resized: ImageSize;
  readonly crop: CropRect;
}

/** x rounded to the nearest integer, ties to even (Python's `round()`). */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * How an image of `width` x `height` becomes the input `size` under `preprocessing`'s resize mode (this file's
 * header gives the arithmetic). `exact` throws unless the image already has the input's size.
 */
export function resizeGeometry(
  width: number,
  height: number,
  preprocessing: Pick<Preprocessing, 'resize' | 'cropFraction'>,
  size: ImageSize,
): ResizeGeometry {
  checkSize({ width, height }, 'image');
  checkSize(size, 'size');
  const whole = { left: 0, top: 0, width: size.width, height: size.height };
  switch (preprocessing.resize) {
    case 'exact':
      if (width !== size.width || height !== size.height)
        throw new DepthfoldInputError(
          'image size',
          `${size.height}x${size.width} (height x width) with resize 'exact'; use 'stretch' or 'shorter-side-crop' for other sizes`,
          `${height}x${width}`,
        );
      return { resized: size, crop: whole };
    case 'stretch':
      return { resized: size, crop: whole };
    case 'shorter-side-crop': {
      const f = preprocessing.cropFraction;
      if (!(f > 0 && f <= 1)) throw new DepthfoldInputError('preprocessing.cropFraction', 'a number in (0, 1]', f);
      // Cross-multiplied, so that a tie (same aspect ratio) takes the height without rounding.
      const heightLimits = size.height * width >= size.width * height;
      let rh: number;
      let rw: number;
      if (heightLimits) {
        rh = Math.max(size.height, Math.floor(size.height / f));
        rw = Math.max(size.width, Math.floor((rh * width) / height));
      } else {
        rw = Math.max(size.width, Math.floor(size.width / f));
        rh = Math.max(size.height, Math.floor((rw * height) / width));
      }
      return {
        resized: { height: rh, width: rw },
        crop: {
          left: roundHalfEven((rw - size.width) / 2),
          top: roundHalfEven((rh - size.height) / 2),
          width: size.width,
          height: size.height,
        },
      };
    }
  }
}

/**
 * Preprocessing steps 1-3: 16-bit samples to 8-bit ({@link to8Bit}), alpha flattened onto the background, the
 * model's colour, and the resize mode with antialiased bilinear interpolation. The result is the model's input
 * before normalisation: HWC uint8 of `size`, 1 channel for grey, 3 for rgb.
 *
 * @param image - decoded pixels of any size.
 * @param preprocessing - the model's recorded preprocessing.
 * @param size - the model's input height and width.
 */
export function preprocessImage(image: RawImage, preprocessing: Preprocessing, size: ImageSize): PreprocessedImage {
  checkRawImage(image);
  const geometry = resizeGeometry(image.width, image.height, preprocessing, size);
  const coloured = toColour(to8Bit(image), preprocessing.colour, preprocessing.background);
  const { resized, crop } = geometry;
  const unchanged =
    resized.width === image.width &&
    resized.height === image.height &&
    crop.width === image.width &&
    crop.height === image.height;
  const out = unchanged ? coloured : resizeBilinear(coloured, resized, crop);
  const channels = preprocessing.colour === 'grey' ? 1 : 3;
  // Never hand back the caller's own buffer: the result is the caller's to keep or change.
  const data = out.data === image.data || !(out.data instanceof Uint8Array) ? Uint8Array.from(out.data) : out.data;
  return { height: size.height, width: size.width, channels, data };
}
