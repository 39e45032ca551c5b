// The web's images besides raw pixels, read into RGBA pixels with the browser's own decoders, which the model's
// preprocessing (@depthfold/images, the arithmetic training runs) then resizes:
//   - encoded bytes (`{ encoded }`, a Blob or File) are decoded by createImageBitmap with premultiplyAlpha 'none'
//     (alpha is flattened later, by the preprocessing), colorSpaceConversion 'none' (the samples as the file stores
//     them, as sharp and PIL give them to training: no conversion on behalf of the screen) and imageOrientation
//     'from-image' (EXIF orientation applied, as sharp's autoOrient does);
//   - bitmaps, images and canvases are drawn on a canvas of their own size and read back with getImageData.
// A 2D canvas stores premultiplied pixels, so a translucent pixel's colour may come back 1 level off; opaque pixels
// come back exactly as decoded.
import type { RawImage } from '@depthfold/images';
import type { EncodedImage } from '../common/classifier.js';
import { InferImageError, reasonOf } from '../common/errors.js';
import { type ImageReader, isEncodedImage } from '../common/image-input.js';
import { isRgbaImage, rgbaToRaw } from '../common/rgba-image.js';

/** A DOM image that is drawn on a canvas to read its pixels. */
type Drawable = HTMLImageElement | ImageBitmap | HTMLCanvasElement | OffscreenCanvas;

const DECODE: ImageBitmapOptions = Object.freeze({
  premultiplyAlpha: 'none',
  colorSpaceConversion: 'none',
  imageOrientation: 'from-image',
});

/** Whether `value` is an instance of the global class `name`, where this environment has one. */
function isInstance(value: unknown, name: string): boolean {
  const type = (globalThis as Record<string, unknown>)[name];
  return typeof type === 'function' && value instanceof type;
}

const isBlob = (value: unknown): value is Blob => isInstance(value, 'Blob');

function isDrawable(value: unknown): value is Drawable {
  return ['HTMLImageElement', 'ImageBitmap', 'HTMLCanvasElement', 'OffscreenCanvas'].some((name) =>
    isInstance(value, name),
  );
}

/** A canvas to read pixels from: an OffscreenCanvas, or a page's canvas where there is none (Safari before 16.4). */
function canvas2d(width: number, height: number): OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D {
  let context: OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D | null = null;
  if (typeof OffscreenCanvas === 'function') {
    context = new OffscreenCanvas(width, height).getContext('2d', { willReadFrequently: true });
  } else if (typeof document === 'object') {
    const element = document.createElement('canvas');
    element.width = width;
    element.height = height;
    context = element.getContext('2d', { willReadFrequently: true });
  }
  if (!context) throw new Error('reading image pixels needs a 2D canvas (OffscreenCanvas or a page), and here is none');
  return context;
}

/** The size a drawable has, 0 for an image element that has not loaded. */
function sizeOf(image: Drawable): { width: number; height: number } {
  if (isInstance(image, 'HTMLImageElement')) {
    const element = image as HTMLImageElement;
    return { width: element.naturalWidth, height: element.naturalHeight };
  }
  return { width: image.width, height: image.height };
}

/** The pixels of a drawable as RGBA, drawn at its own size. */
function pixelsOf(image: Drawable, index: number, file: string | undefined): RawImage {
  const { width, height } = sizeOf(image);
  if (width === 0 || height === 0)
    throw new InferImageError(index, file, `an image of ${width}x${height} pixels has nothing to read`, 'empty');
  const context = canvas2d(width, height);
  context.drawImage(image, 0, 0);
  return rgbaToRaw(context.getImageData(0, 0, width, height));
}

/** Decodes an encoded image with the browser's decoder. */
async function decodeBlob(blob: Blob, index: number, file: string | undefined): Promise<RawImage> {
  if (blob.size === 0) throw new InferImageError(index, file, 'empty file (0 bytes)', 'empty');
  if (typeof createImageBitmap !== 'function')
    throw new Error(`images[${index}]: decoding an image needs createImageBitmap, which this environment lacks`);
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob, DECODE);
  } catch (error) {
    const type = blob.type === '' ? '' : `${blob.type}, `;
    throw new InferImageError(
      index,
      file,
      `not an image this browser decodes, or corrupt (${type}${blob.size} bytes): ${reasonOf(error)}`,
      'corrupt',
      error,
    );
  }
  try {
    return pixelsOf(bitmap, index, file);
  } finally {
    bitmap.close();
  }
}

/** An image element's pixels, once it has loaded; one that fails to load is named by its URL. */
async function readElement(element: HTMLImageElement, index: number): Promise<RawImage> {
  const file = element.currentSrc || element.src || undefined;
  try {
    await element.decode();
  } catch (error) {
    throw new InferImageError(index, file, `the image element did not load: ${reasonOf(error)}`, 'corrupt', error);
  }
  // Decoded again from the element's data with the options of every other encoded image.
  const bitmap = await createImageBitmap(element, DECODE);
  try {
    return pixelsOf(bitmap, index, file);
  } finally {
    bitmap.close();
  }
}

/**
 * Reads `{ encoded }`, Blobs and Files, ImageData (any size), image elements, ImageBitmaps and canvases (HTML or
 * offscreen, whatever their context) into RGBA pixels.
 */
export const webImageReader: ImageReader = Object.freeze({
  kinds:
    'encoded bytes { encoded: Uint8Array }, a Blob or File, an ImageData, an HTMLImageElement, an ImageBitmap or a canvas',
  accepts: (value: unknown): boolean =>
    isEncodedImage(value) || isRgbaImage(value) || isBlob(value) || isDrawable(value),
  async read(value: unknown, index: number): Promise<RawImage> {
    if (isRgbaImage(value)) return rgbaToRaw(value);
    if (isEncodedImage(value)) {
      const { encoded, name } = value as EncodedImage;
      // A copy: a Blob may not be built over a SharedArrayBuffer's view, and the caller keeps its bytes.
      return decodeBlob(new Blob([encoded.slice()]), index, name);
    }
    if (isBlob(value)) return decodeBlob(value, index, isInstance(value, 'File') ? (value as File).name : undefined);
    if (isInstance(value, 'HTMLImageElement')) return readElement(value as HTMLImageElement, index);
    return pixelsOf(value as Drawable, index, undefined);
  },
});
