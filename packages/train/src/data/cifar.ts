/**
 * Reader for the CIFAR-10 and CIFAR-100 binary versions (www.cs.toronto.edu/~kriz/cifar.html): fixed-size records
 * of label byte(s) then a 32x32 colour image stored channel-planar (1024 red, 1024 green, 1024 blue bytes, each
 * plane row-major). CIFAR-10 has 1 label byte; CIFAR-100 has 2 (coarse, then fine) and we keep the fine label.
 */
import { DatasetError } from './errors.js';
import { readDataFile } from './read.js';

/** Which CIFAR binary layout a file uses. */
export type CifarVariant = 'cifar10' | 'cifar100';

/** Images and labels read from one or more CIFAR files. */
export interface CifarRecords {
  /** `count * 32 * 32 * 3` bytes, HWC (interleaved RGB), converted from the files' planar layout. */
  images: Uint8Array;
  /** One label per image: the class for CIFAR-10, the fine class for CIFAR-100. */
  labels: Uint8Array;
  /** The number of images. */
  count: number;
}

/** Image side of every CIFAR image, in pixels. */
export const CIFAR_SIZE = 32;
/** Colour channels of every CIFAR image. */
export const CIFAR_CHANNELS = 3;
const PLANE = CIFAR_SIZE * CIFAR_SIZE;
/** Bytes of one CIFAR image (3 planes of 32x32). */
export const CIFAR_IMAGE_BYTES = PLANE * CIFAR_CHANNELS;

/** The per-variant layout: how many label bytes lead a record, and the range each may take. */
const LAYOUTS: Readonly<
  Record<CifarVariant, { labelBytes: number; labelLimits: readonly number[]; labelNames: readonly string[] }>
> = {
  cifar10: { labelBytes: 1, labelLimits: [10], labelNames: ['label'] },
  // The coarse label is checked too although it is dropped: a bad value there means the records are misaligned.
  cifar100: { labelBytes: 2, labelLimits: [20, 100], labelNames: ['coarse label', 'fine label'] },
};

/**
 * The record size of a variant: label bytes plus {@link CIFAR_IMAGE_BYTES}; 3073 for CIFAR-10, 3074 for CIFAR-100.
 *
 * @param variant - the CIFAR layout.
 */
export function cifarRecordBytes(variant: CifarVariant): number {
  return LAYOUTS[variant].labelBytes + CIFAR_IMAGE_BYTES;
}

/**
 * Parses one CIFAR binary file already in memory.
 *
 * @param bytes - the whole file.
 * @param source - the file name, for error messages.
 * @param variant - the layout: `cifar10` (1 label byte) or `cifar100` (coarse and fine label bytes).
 * @returns the images converted to HWC and the (fine) labels.
 * @throws {@link DatasetError} when the size is not a positive multiple of the record size, or a label is out of range.
 */
export function parseCifar(bytes: Uint8Array, source: string, variant: CifarVariant): CifarRecords {
  const layout = LAYOUTS[variant];
  const recordBytes = layout.labelBytes + CIFAR_IMAGE_BYTES;
  if (bytes.length === 0 || bytes.length % recordBytes !== 0) {
    throw new DatasetError({
      source,
      field: 'file size',
      expected: `a positive multiple of the ${variant} record size, ${recordBytes} bytes (${layout.labelBytes} label byte(s) + ${CIFAR_IMAGE_BYTES} pixel bytes)`,
      received: `${bytes.length} bytes (${Math.floor(bytes.length / recordBytes)} records and ${bytes.length % recordBytes} bytes over)`,
    });
  }
  const count = bytes.length / recordBytes;
  const images = new Uint8Array(count * CIFAR_IMAGE_BYTES);
  const labels = new Uint8Array(count);
  for (let r = 0; r < count; r++) {
    const base = r * recordBytes;
    for (let k = 0; k < layout.labelBytes; k++) {
      const value = bytes[base + k]!;
      if (value >= layout.labelLimits[k]!) {
        throw new DatasetError({
          source,
          field: `${layout.labelNames[k]} of record ${r}`,
          expected: `a value below ${layout.labelLimits[k]}`,
          received: String(value),
        });
      }
    }
    // The fine label is the last label byte in both layouts.
    labels[r] = bytes[base + layout.labelBytes - 1]!;
    // Planar RRR..GGG..BBB to interleaved RGB (HWC), the layout tfjs NHWC tensors want.
    const src = base + layout.labelBytes;
    const dst = r * CIFAR_IMAGE_BYTES;
    for (let p = 0; p < PLANE; p++) {
      const o = dst + p * CIFAR_CHANNELS;
      images[o] = bytes[src + p]!;
      images[o + 1] = bytes[src + PLANE + p]!;
      images[o + 2] = bytes[src + 2 * PLANE + p]!;
    }
  }
  return { images, labels, count };
}

/**
 * Reads and parses one CIFAR binary file (`data_batch_1.bin`, `test_batch.bin`, `train.bin`...).
 *
 * @param path - the file to read.
 * @param variant - the layout, see {@link parseCifar}.
 * @throws {@link DatasetError} when the file is missing or malformed.
 */
export async function readCifarFile(path: string, variant: CifarVariant): Promise<CifarRecords> {
  const bytes = await readDataFile(path, `a ${variant} binary file`);
  return parseCifar(bytes, path, variant);
}

/**
 * Concatenates records read from several files (the five CIFAR-10 training batches) into one.
 *
 * @param parts - the records, in order.
 */
export function concatCifar(parts: readonly CifarRecords[]): CifarRecords {
  if (parts.length === 1) return parts[0]!;
  let count = 0;
  for (const part of parts) count += part.count;
  const images = new Uint8Array(count * CIFAR_IMAGE_BYTES);
  const labels = new Uint8Array(count);
  let at = 0;
  for (const part of parts) {
    images.set(part.images, at * CIFAR_IMAGE_BYTES);
    labels.set(part.labels, at);
    at += part.count;
  }
  return { images, labels, count };
}
