// Node's images besides raw pixels: a file path, or encoded bytes wrapped as `{ encoded }`, decoded by
// @depthfold/images/node (sharp, loaded on the first decode: without it, only a call with such an image fails).
import { decodeImage, ImageDecodeError, type RawImage } from '@depthfold/images/node';
import type { EncodedImage } from '../common/classifier.js';
import { InferImageError } from '../common/errors.js';
import { type ImageReader, isEncodedImage } from '../common/image-input.js';

/**
 * Reads paths and {@link EncodedImage}s: PNG, JPEG, WebP, GIF (first frame) or TIFF (first page), EXIF orientation
 * applied, images over 100 megapixels refused from their header (a decompression bomb).
 */
export const nodeImageReader: ImageReader = Object.freeze({
  kinds: 'a path (string) or encoded bytes { encoded: Uint8Array }',
  accepts: (value: unknown): boolean => typeof value === 'string' || isEncodedImage(value),
  async read(value: unknown, index: number): Promise<RawImage> {
    const path = typeof value === 'string' ? value : undefined;
    const file = path ?? (value as EncodedImage).name;
    try {
      return await decodeImage(path ?? (value as EncodedImage).encoded, file === undefined ? {} : { name: file });
    } catch (error) {
      // Any other error (sharp missing) is not the image's fault: it goes as it is, saying how to install sharp.
      if (error instanceof ImageDecodeError) throw new InferImageError(index, file, error.reason, error.failure, error);
      throw error;
    }
  },
});
