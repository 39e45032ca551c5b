// Encoded images (a path, or bytes) to decoded pixels with sharp (libvips): PNG, JPEG, WebP, GIF (first frame) and
// TIFF (first page); grey, RGB, RGBA, palette, 16-bit; EXIF orientation applied. sharp only decodes: the resize is
// @depthfold/images' own, so that browsers and training get the same input from the same pixels.
import { readFile } from 'node:fs/promises';
import { IMAGE_BYTES, ImageDecodeError } from '../errors.js';
import type { RawChannels, RawImage } from '../raw-image.js';
import { loadSharp } from './sharp-loader.js';
import { messageOf, withVipsReason } from './vips-error.js';

/** The formats decoded; others (SVG, HEIF, PDF...) are refused before libvips sees them. */
export const IMAGE_FORMATS = ['png', 'jpeg', 'webp', 'gif', 'tiff'] as const;

/** A format of {@link IMAGE_FORMATS}. */
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

/**
 * The largest width x height decoded by default: 100 megapixels (a 12000 x 8000 photo; 300 MB of RGB). Larger images
 * are refused from their header, before any pixel is decoded, as decompression bombs.
 */
export const DEFAULT_LIMIT_INPUT_PIXELS = 100_000_000;

/** Options of {@link decodeImage}. */
export interface DecodeOptions {
  /** The largest width x height decoded; default {@link DEFAULT_LIMIT_INPUT_PIXELS}. */
  readonly limitInputPixels?: number;
  /** What errors call bytes (not a path): default "image bytes"; e.g. a request's `images[3]`. */
  readonly name?: string;
}

/** Decoded pixels and the format they came from. 16-bit images keep 16-bit samples (see `to8Bit`). */
export interface DecodedImage extends RawImage {
  readonly format: ImageFormat;
}

let decodes = 0;

/**
 * How many images this thread has decoded (handed to libvips for pixels, successfully or not) since it started.
 * Refusals before decoding (unknown format, too many pixels) are not counted. Tests use it to see a cache work.
 */
export function decodeCount(): number {
  return decodes;
}

/** The format of encoded bytes from their signature, or undefined. */
export function sniffFormat(bytes: Uint8Array): ImageFormat | undefined {
  const at = (i: number, ...values: number[]) => values.every((v, k) => bytes[i + k] === v);
  if (at(0, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'png';
  if (at(0, 0xff, 0xd8, 0xff)) return 'jpeg';
  if (at(0, 0x47, 0x49, 0x46, 0x38)) return 'gif';
  if (at(0, 0x52, 0x49, 0x46, 0x46) && at(8, 0x57, 0x45, 0x42, 0x50)) return 'webp';
  if (at(0, 0x49, 0x49, 0x2a, 0x00) || at(0, 0x4d, 0x4d, 0x00, 0x2a)) return 'tiff';
  return undefined;
}

/** The first bytes, for an error: printable ASCII as text, otherwise hex. */
function firstBytes(bytes: Uint8Array): string {
  const head = bytes.subarray(0, 8);
  const text = String.fromCharCode(...head);
  return /^[\x20-\x7e]+$/.test(text)
    ? JSON.stringify(text)
    : Array.from(head, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** Why bytes in which {@link sniffFormat} finds no format are refused, with their first bytes, for an error. */
export function notAnImageReason(bytes: Uint8Array): string {
  return `not a PNG, JPEG, WebP, GIF or TIFF image (it starts with ${firstBytes(bytes)})`;
}

/**
 * Decodes encoded bytes already in memory; errors name `file`. Used by {@link decodeImage} and by the cache's
 * workers, which read files themselves (to check them against the file list).
 */
export async function decodeImageBytes(
  bytes: Uint8Array,
  file: string,
  limitInputPixels: number,
): Promise<DecodedImage> {
  if (bytes.length === 0) throw new ImageDecodeError(file, 'empty file (0 bytes)', 'empty');
  const format = sniffFormat(bytes);
  if (!format) throw new ImageDecodeError(file, notAnImageReason(bytes), 'unsupported');
  const sharp = await loadSharp();
  const name = format.toUpperCase();
  // failOn 'error': truncated or corrupt data fails; libjpeg's warnings (extraneous bytes...) do not, as in PIL.
  const options = { failOn: 'error', pages: 1, page: 0 } as const;
  const image = () => sharp(bytes, { ...options, limitInputPixels: limitInputPixels || false });
  let width: number;
  let height: number;
  let depth: string;
  let space: string;
  let hasAlpha: boolean;
  try {
    const meta = await withVipsReason(() => image().metadata());
    width = meta.width;
    height = meta.height;
    depth = meta.depth;
    space = meta.space;
    hasAlpha = meta.hasAlpha;
  } catch (error) {
    // sharp refuses an image over its limit from the header; read the header again without the limit to say how big.
    if (/pixel limit/i.test(messageOf(error))) {
      const meta = await sharp(bytes, { ...options, limitInputPixels: false })
        .metadata()
        .catch(() => undefined);
      const pixels = meta ? `${meta.width}x${meta.height} = ${meta.width * meta.height} pixels` : 'more pixels';
      throw new ImageDecodeError(
        file,
        `${name} of ${pixels} is over the limit of ${limitInputPixels} (limitInputPixels): refused before decoding, as a possible decompression bomb`,
        'too-large',
      );
    }
    throw new ImageDecodeError(file, `corrupt ${name} header: ${messageOf(error)}`, 'corrupt');
  }
  if (limitInputPixels > 0 && width * height > limitInputPixels)
    throw new ImageDecodeError(
      file,
      `${name} of ${width}x${height} = ${width * height} pixels is over the limit of ${limitInputPixels} (limitInputPixels): refused before decoding, as a possible decompression bomb`,
      'too-large',
    );
  const wide = depth === 'ushort';
  const grey = (space === 'b-w' || space === 'grey16') && !hasAlpha;
  // Keep grey as one channel and 16-bit as 16-bit; everything else (palette, CMYK, ICC profiles) becomes sRGB(A).
  const colourspace = wide ? (grey ? 'grey16' : 'rgb16') : grey ? 'b-w' : 'srgb';
  decodes++;
  let data: Buffer;
  let info: { width: number; height: number; channels: number };
  try {
    ({ data, info } = await withVipsReason(() =>
      image()
        .autoOrient()
        .toColourspace(colourspace)
        .raw({ depth: wide ? 'ushort' : 'uchar' })
        .toBuffer({ resolveWithObject: true }),
    ));
  } catch (error) {
    throw new ImageDecodeError(file, `corrupt or truncated ${name}: ${messageOf(error)}`, 'corrupt');
  }
  const channels = info.channels as RawChannels;
  if (channels < 1 || channels > 4)
    throw new ImageDecodeError(file, `${name} decoded to ${channels} channels; expected 1 to 4`, 'unsupported');
  const pixels = wide ? toUint16(data) : new Uint8Array(data.buffer, data.byteOffset, data.length);
  return { width: info.width, height: info.height, channels, data: pixels, format };
}

/** sharp's 16-bit raw output (native byte order) as a Uint16Array, copied if its offset is odd. */
function toUint16(bytes: Buffer): Uint16Array {
  if (bytes.byteOffset % 2 === 0) return new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2);
  return new Uint16Array(Uint8Array.from(bytes).buffer);
}

/**
 * Decodes an image: a file path, or encoded bytes (a Buffer or Uint8Array of PNG, JPEG, WebP, GIF or TIFF, never raw
 * pixels). EXIF orientation is applied; GIF and TIFF give their first frame. Images over `limitInputPixels` are
 * refused from their header. sharp is loaded on the first call; without it, this call (alone) throws an error saying
 * how to install it.
 *
 * @throws {@link ImageDecodeError} naming the file (or "image bytes", or `options.name`) and the reason, in one line.
 */
export async function decodeImage(input: string | Uint8Array, options: DecodeOptions = {}): Promise<DecodedImage> {
  const limit = options.limitInputPixels ?? DEFAULT_LIMIT_INPUT_PIXELS;
  if (typeof input === 'string') {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(input);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new ImageDecodeError(input, `cannot read the file (${code ?? messageOf(error)})`, 'unreadable');
    }
    return decodeImageBytes(bytes, input, limit);
  }
  if (!(input instanceof Uint8Array))
    throw new TypeError(`decodeImage: expected a path or a Uint8Array of encoded bytes, received ${typeof input}`);
  return decodeImageBytes(input, options.name ?? IMAGE_BYTES, limit);
}
