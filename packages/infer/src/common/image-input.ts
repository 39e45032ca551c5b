// Images of every kind to the network's input before normalisation. Bare pixels of the input's size are taken as
// they are; raw images of any size, and what a platform decodes (paths and encoded bytes in Node; encoded bytes,
// Blobs and DOM images on the web), go through the model's recorded preprocessing with @depthfold/images'
// preprocessImage, the one implementation of its arithmetic, which training runs too. What an image is comes from its
// type alone: a bare Uint8Array is pixels, encoded bytes come wrapped as `{ encoded }`; nothing is guessed from bytes.
import { preprocessImage, type RawImage } from '@depthfold/images';
import type { ClassifierInfo, EncodedImage, Images, PixelLayout, Pixels } from './classifier.js';
import { describeType, InferInputError } from './errors.js';

/**
 * How many images of a batch are decoded at once: enough to keep a decoder busy, few enough that the memory of large
 * photos stays bounded (only their preprocessed inputs are kept).
 */
export const DECODE_CONCURRENCY = 4;

/** What a platform decodes besides raw pixels (Node: paths, encoded bytes; web: encoded bytes, Blobs, DOM images). */
export interface ImageReader {
  /** What this platform's own images may be, for errors, e.g. `a path (string) or { encoded: bytes }`. */
  readonly kinds: string;
  /** Whether the reader takes `value`: asked for the whole batch before any image is decoded. */
  accepts(value: unknown): boolean;
  /**
   * The decoded pixels of `value` (a value that `accepts` took; an {@link EncodedImage} already checked).
   * @param index - The image's position in the batch, for errors.
   * @throws InferImageError for an image that cannot be decoded.
   */
  read(value: unknown, index: number): Promise<RawImage>;
}

/** What the preprocessing needs of a model: its input's size and its recorded preprocessing. */
export type ModelInput = Pick<ClassifierInfo, 'input' | 'preprocessing'>;

const RAW_IMAGE = 'a raw image { width, height, channels, data }';

/** True for an object with an `encoded` field: an {@link EncodedImage}, checked by {@link checkEncodedImage}. */
export function isEncodedImage(value: unknown): value is EncodedImage {
  return value !== null && typeof value === 'object' && !ArrayBuffer.isView(value) && 'encoded' in value;
}

/** True for an object with a `channels` field: a {@link RawImage}, checked by {@link checkRawImage}. */
export function isRawImage(value: unknown): value is RawImage {
  return value !== null && typeof value === 'object' && !ArrayBuffer.isView(value) && 'channels' in value;
}

/** Throws an InferInputError naming the field unless `image` holds a Uint8Array of bytes and, if any, a string name. */
export function checkEncodedImage(image: EncodedImage, field: string): void {
  if (!(image.encoded instanceof Uint8Array))
    throw new InferInputError(
      `${field}.encoded`,
      'a Uint8Array (or Buffer) of an encoded image file',
      describeType(image.encoded),
    );
  if (image.name !== undefined && typeof image.name !== 'string')
    throw new InferInputError(`${field}.name`, 'a string (what errors call the image)', describeType(image.name));
}

const isDimension = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1;

/** Throws an InferInputError naming the field unless `image` is a well-formed {@link RawImage}. */
export function checkRawImage(image: RawImage, field: string): void {
  for (const side of ['width', 'height'] as const) {
    if (!isDimension(image[side])) throw new InferInputError(`${field}.${side}`, 'a positive integer', image[side]);
  }
  if (![1, 2, 3, 4].includes(image.channels))
    throw new InferInputError(`${field}.channels`, '1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA)', image.channels);
  const { data } = image;
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray || data instanceof Uint16Array))
    throw new InferInputError(
      `${field}.data`,
      'a Uint8Array, Uint8ClampedArray or Uint16Array of samples',
      describeType(data),
    );
  const expected = image.width * image.height * image.channels;
  if (data.length !== expected)
    throw new InferInputError(
      `${field}.data.length`,
      `${expected} samples (${image.height} x ${image.width} x ${image.channels}, HWC)`,
      data.length,
    );
}

// A hint for an error message only, never a decision: bytes that start like an image file were most likely meant as
// one. PNG's and JPEG's signatures, the files a caller reads most.
function startsLikeImageFile(bytes: Uint8Array): string | undefined {
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'a PNG file';
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'a JPEG file';
  return undefined;
}

/** Bare pixels: exactly the input's count of values, 0..255. */
function checkPixels(image: Pixels, input: ModelInput['input'], layout: PixelLayout, field: string): Pixels {
  const { height, width, channels } = input;
  const size = height * width * channels;
  if (image.length !== size) {
    const shape = layout === 'HWC' ? `${height}x${width}x${channels}` : `${channels}x${height}x${width}`;
    const file = image instanceof Uint8Array ? startsLikeImageFile(image) : undefined;
    const hint = file ? `; these bytes start like ${file}: pass encoded images as { encoded: bytes }` : '';
    throw new InferInputError(field, `${size} pixel values (${layout} ${shape})${hint}`, image.length);
  }
  // A Uint8Array holds 0..255 by construction; a Float32Array may hold fractions (a resized image) but nothing
  // outside 0..255: -1000 or 3.4e38 once went through to the network.
  if (image instanceof Float32Array) {
    for (let j = 0; j < image.length; j++) {
      const v = image[j]!;
      if (!(v >= 0 && v <= 255))
        throw new InferInputError(`${field}[${j}]`, 'a finite pixel value (0..255)', String(v));
    }
  }
  return image;
}

/** HWC values reordered CHW. */
function hwcToChw(data: Uint8Array, height: number, width: number, channels: number): Uint8Array {
  const plane = height * width;
  const out = new Uint8Array(data.length);
  for (let k = 0; k < plane; k++) for (let c = 0; c < channels; c++) out[c * plane + k] = data[k * channels + c]!;
  return out;
}

/**
 * Decoded pixels as the model's input before normalisation: the model's preprocessing (alpha flattened, colour,
 * resize) by `preprocessImage`, laid out in `layout`.
 * @throws InferInputError when the model's resize is `exact` and the image has another size.
 */
export function preprocessForModel(image: RawImage, model: ModelInput, layout: PixelLayout, field: string): Uint8Array {
  const { height, width, channels } = model.input;
  const { preprocessing } = model;
  if (preprocessing.resize === 'exact' && (image.width !== width || image.height !== height))
    throw new InferInputError(
      field,
      `an image of ${width}x${height} (width x height): the model's preprocessing is resize 'exact', which resizes nothing`,
      `${image.width}x${image.height}`,
    );
  const out = preprocessImage(image, preprocessing, { height, width });
  return layout === 'HWC' ? out.data : hwcToChw(out.data, height, width, channels);
}

/**
 * Runs `task` on every item, at most `limit` at a time. After a failure no new task starts; the ones under way
 * finish, and the failure of the earliest item is thrown, so that the error does not depend on timing.
 */
async function forEachLimited(
  items: readonly number[],
  limit: number,
  task: (item: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const failures: { item: number; error: unknown }[] = [];
  const worker = async (): Promise<void> => {
    while (next < items.length && failures.length === 0) {
      const item = items[next++]!;
      try {
        await task(item);
      } catch (error) {
        failures.push({ item, error });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failures.length > 0) throw failures.reduce((a, b) => (b.item < a.item ? b : a)).error;
}

/** A batch whose images are checked: its inputs now, or, where some must be decoded, a promise of them. */
export type CheckedBatch = { readonly ready: Pixels[] } | { readonly ready?: undefined; finish(): Promise<Pixels[]> };

/**
 * Checks a batch of images of any kind, and gives the network's input before normalisation for each, in `layout`
 * order. Every image's kind and shape is checked before the first is decoded, so a bad image late in a large batch
 * costs no decoding. Pixels and raw images are done at once (`ready`: a batch without anything to decode starts its
 * inference in the caller's tick, as it always did); images to decode are done by `finish`,
 * {@link DECODE_CONCURRENCY} at a time.
 * @param reader - The platform's decoder; without one, only pixels and raw images are taken.
 * @throws InferInputError naming the image (`images[i]`) for a bad kind, shape or size; `finish` rejects with an
 * InferImageError from the reader for an image that does not decode.
 */
export function checkBatch(
  images: Images<unknown>,
  model: ModelInput,
  layout: PixelLayout,
  reader?: ImageReader,
): CheckedBatch {
  const batch: readonly unknown[] = Array.isArray(images) ? images : [images];
  if (batch.length === 0) throw new InferInputError('images', 'at least one image', images);
  const out = new Array<Pixels>(batch.length);
  const raw: number[] = [];
  const decode: number[] = [];
  const kinds = `a Uint8Array or Float32Array of raw pixels, ${RAW_IMAGE}, ${reader?.kinds ?? 'nothing else here'}`;
  batch.forEach((image, i) => {
    const field = `images[${i}]`;
    if (image instanceof Uint8Array || image instanceof Float32Array) {
      out[i] = checkPixels(image, model.input, layout, field);
    } else if (isEncodedImage(image) || !isRawImage(image)) {
      if (isEncodedImage(image)) checkEncodedImage(image, field);
      if (!reader?.accepts(image)) throw new InferInputError(field, kinds, describeType(image));
      decode.push(i);
    } else {
      checkRawImage(image, field);
      raw.push(i);
    }
  });
  for (const i of raw) out[i] = preprocessForModel(batch[i] as RawImage, model, layout, `images[${i}]`);
  if (decode.length === 0 || !reader) return { ready: out };
  return {
    async finish(): Promise<Pixels[]> {
      await forEachLimited(decode, DECODE_CONCURRENCY, async (i) => {
        out[i] = preprocessForModel(await reader.read(batch[i], i), model, layout, `images[${i}]`);
      });
      return out;
    },
  };
}

/** {@link checkBatch}, then its `finish` where images are to decode: the inputs of the whole batch. */
export async function prepareImages(
  images: Images<unknown>,
  model: ModelInput,
  layout: PixelLayout,
  reader?: ImageReader,
): Promise<Pixels[]> {
  const checked = checkBatch(images, model, layout, reader);
  return checked.ready ?? checked.finish();
}
