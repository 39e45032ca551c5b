// The decode cache's format, on disk. One folder per preprocessing and decoder:
//   <cache dir>/<key>/preprocessing.json     what <key> stands for (written once, for people; never read back)
//   <cache dir>/<key>/<xx>/<entry>.dfic     one file per image
// <key> is the first 16 hex digits of SHA-256 over the JSON of {format version, preprocessing (resize, interpolation,
// cropFraction, colour, background), input height and width, sharp's and libvips's versions}: a change to any of
// them is a new folder. <entry> is the first 32 hex digits of SHA-256 over "<absolute path>\n<size>\n<mtimeMs>" of
// the source file as listed, and <xx> its first two, so that a changed file is a new entry and no folder holds more
// than 1/256 of them. An entry file:
//   bytes 0..3   "DFIC" (depthfold image cache)
//   byte  4      format version, 1
//   byte  5      kind: 0 pixels, 1 an image that cannot be decoded
//   bytes 6..7   channels, uint16 little-endian (kind 0; else 0)
//   bytes 8..11  height, uint32 little-endian (kind 0; else 0)
//   bytes 12..15 width, uint32 little-endian (kind 0; else 0)
//   bytes 16..   kind 0: height x width x channels uint8 pixels, HWC, the preprocessing's output (before normalising);
//                kind 1: UTF-8 JSON {"failure": ImageDecodeFailure, "reason": string}
// Entries are written to "<entry>.dfic.tmp-<pid>-<random>" and renamed, so an entry is whole or absent; a crash leaves
// at most a temp file, which no reader opens. A fill looks entries up by size alone (16 + height x width x channels
// is a pixel entry; a failure's entry never has that size); reading an entry checks its header and length, and one
// that is not whole is decoded again.
import type { ImageDecodeFailure } from '../errors.js';

/** The version written in byte 4 and in the folder key. */
export const CACHE_FORMAT_VERSION = 1;

/** Bytes before the pixels. */
export const HEADER_BYTES = 16;

const MAGIC = [0x44, 0x46, 0x49, 0x43];

/** What an entry holds. */
export type CacheEntry =
  | { readonly kind: 'pixels'; readonly pixels: Uint8Array }
  | { readonly kind: 'bad'; readonly failure: ImageDecodeFailure; readonly reason: string };

/** The bytes of an entry of pixels. */
export function encodePixelsEntry(pixels: Uint8Array, height: number, width: number, channels: number): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + pixels.length);
  writeHeader(out, 0, channels, height, width);
  out.set(pixels, HEADER_BYTES);
  return out;
}

/**
 * The bytes of an entry that records an image that cannot be decoded. It is never `pixelEntryBytes` long (a space
 * is added to its JSON if it would be), so that an entry's size alone tells a pixel entry of that shape.
 */
export function encodeBadEntry(failure: ImageDecodeFailure, reason: string, pixelEntryBytes: number): Uint8Array {
  let json = JSON.stringify({ failure, reason });
  if (HEADER_BYTES + new TextEncoder().encode(json).length === pixelEntryBytes) json += ' ';
  const text = new TextEncoder().encode(json);
  const out = new Uint8Array(HEADER_BYTES + text.length);
  writeHeader(out, 1, 0, 0, 0);
  out.set(text, HEADER_BYTES);
  return out;
}

function writeHeader(out: Uint8Array, kind: number, channels: number, height: number, width: number): void {
  const view = new DataView(out.buffer, out.byteOffset, HEADER_BYTES);
  MAGIC.forEach((b, i) => view.setUint8(i, b));
  view.setUint8(4, CACHE_FORMAT_VERSION);
  view.setUint8(5, kind);
  view.setUint16(6, channels, true);
  view.setUint32(8, height, true);
  view.setUint32(12, width, true);
}

/**
 * What an entry of `length` bytes starting with `header` holds: pixels of the given shape, a recorded failure, or
 * undefined when it is not a whole entry of this version for that shape (a torn or foreign file: decode again).
 */
export function entryKind(
  header: Uint8Array,
  length: number,
  height: number,
  width: number,
  channels: number,
): 'pixels' | 'bad' | undefined {
  if (header.length < HEADER_BYTES || MAGIC.some((b, i) => header[i] !== b) || header[4] !== CACHE_FORMAT_VERSION)
    return undefined;
  const view = new DataView(header.buffer, header.byteOffset, HEADER_BYTES);
  if (header[5] === 1) return 'bad';
  const whole =
    header[5] === 0 &&
    view.getUint16(6, true) === channels &&
    view.getUint32(8, true) === height &&
    view.getUint32(12, true) === width &&
    length === HEADER_BYTES + height * width * channels;
  return whole ? 'pixels' : undefined;
}

/** Reads a whole entry; undefined as for {@link entryKind}. */
export function decodeEntry(
  bytes: Uint8Array,
  height: number,
  width: number,
  channels: number,
): CacheEntry | undefined {
  const kind = entryKind(bytes, bytes.length, height, width, channels);
  if (kind === 'pixels') return { kind, pixels: bytes.subarray(HEADER_BYTES) };
  if (kind !== 'bad') return undefined;
  try {
    const { failure, reason } = JSON.parse(new TextDecoder().decode(bytes.subarray(HEADER_BYTES))) as {
      failure: ImageDecodeFailure;
      reason: string;
    };
    return typeof reason === 'string' && typeof failure === 'string' ? { kind: 'bad', failure, reason } : undefined;
  } catch {
    return undefined;
  }
}
