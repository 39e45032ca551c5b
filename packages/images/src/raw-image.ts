// Decoded pixels as every runtime hands them over (sharp's raw output, a canvas's ImageData, a dataset's bytes), and
// the one conversion of 16-bit samples to 8-bit.
import { DepthfoldInputError } from '@depthfold/core';

/** Channels of decoded pixels: 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA. */
export type RawChannels = 1 | 2 | 3 | 4;

/**
 * Decoded pixels, row-major, channels interleaved (HWC): `data[(y * width + x) * channels + c]`. Samples are 8-bit
 * (`Uint8Array`, or the `Uint8ClampedArray` of an `ImageData`) or 16-bit (`Uint16Array`, 0..65535), never
 * premultiplied by alpha.
 */
export interface RawImage {
  readonly width: number;
  readonly height: number;
  readonly channels: RawChannels;
  readonly data: Uint8Array | Uint8ClampedArray | Uint16Array;
}

/** A {@link RawImage} with 8-bit samples. */
export interface RawImage8 extends RawImage {
  readonly data: Uint8Array | Uint8ClampedArray;
}

/** A height and a width in pixels. */
export interface ImageSize {
  readonly height: number;
  readonly width: number;
}

/** What the preprocessing produces: the model's input before normalisation, HWC uint8, 1 (grey) or 3 (rgb) channels. */
export interface PreprocessedImage {
  readonly height: number;
  readonly width: number;
  readonly channels: 1 | 3;
  readonly data: Uint8Array;
}

/** Throws unless `size` holds two positive integers; `field` names it in the error. */
export function checkSize(size: ImageSize, field: string): void {
  for (const side of ['height', 'width'] as const) {
    const v = size[side];
    if (!Number.isInteger(v) || v < 1) throw new DepthfoldInputError(`${field}.${side}`, 'a positive integer', v);
  }
}

/** Throws unless the image's sizes, channel count and sample count agree. */
export function checkRawImage(image: RawImage, field = 'image'): void {
  checkSize(image, field);
  if (![1, 2, 3, 4].includes(image.channels))
    throw new DepthfoldInputError(
      `${field}.channels`,
      '1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA)',
      image.channels,
    );
  const expected = image.width * image.height * image.channels;
  if (image.data.length !== expected)
    throw new DepthfoldInputError(
      `${field}.data.length`,
      `${expected} samples (${image.height} x ${image.width} x ${image.channels})`,
      image.data.length,
    );
}

/**
 * The image with 8-bit samples; 8-bit images are returned as they are. A 16-bit sample v becomes
 * round(v * 255 / 65535) = round(v / 257), computed exactly as floor((v + 128) / 257) (v / 257 is never a half).
 */
export function to8Bit(image: RawImage): RawImage8 {
  const { data } = image;
  if (!(data instanceof Uint16Array)) return image as RawImage8;
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = Math.floor((data[i]! + 128) / 257);
  return { width: image.width, height: image.height, channels: image.channels, data: out };
}
