// Preprocessing step 3's arithmetic, the one resize of training, Node and browsers: antialiased bilinear, as PIL's
// `Image.resize(size, BILINEAR)` (libImaging/Resample.c) defines it, written anew in float64.
//   Along one axis, input size n, output size m, scale s = n / m, filter scale f = max(s, 1) (the triangle widens
//   when shrinking, so every input pixel contributes), support r = f. Output pixel x has its centre at
//   c = (x + 0.5) s in input coordinates; it takes the inputs i in [trunc(c - r + 0.5), trunc(c + r + 0.5)) clipped
//   to [0, n), weighted by w_i = tri((i + 0.5 - c) / f), tri(t) = max(0, 1 - |t|), normalised to sum 1.
//   Rows are resized first, into float64, then columns; each output sample is rounded once, half up
//   (floor(v + 0.5)), and clamped to 0..255. PIL instead rounds its weights to 22-bit fixed point and its rows to
//   uint8 between the passes: the two differ by at most 1 level, which the tests measure.
import { DepthfoldInputError } from '@depthfold/core';
import { checkRawImage, checkSize, type ImageSize, type RawImage8 } from './raw-image.js';

/** A rectangle of whole pixels: its top-left corner and its size. */
export interface CropRect {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

/** One axis's taps: output pixel x reads `count[x]` inputs from `start[x]` with weights `weights[x * taps ...]`. */
interface AxisWeights {
  readonly start: Int32Array;
  readonly count: Int32Array;
  readonly weights: Float64Array;
  readonly taps: number;
}

/**
 * The taps of output pixels `offset .. offset + length` of an axis resized from `inSize` to `outSize` (the others
 * are cropped away): resizing then cropping, computed without the pixels that the crop drops.
 */
function axisWeights(inSize: number, outSize: number, offset: number, length: number): AxisWeights {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale;
  const taps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(length);
  const count = new Int32Array(length);
  const weights = new Float64Array(length * taps);
  const inverse = 1 / filterScale;
  for (let x = 0; x < length; x++) {
    // (offset + x + 0.5) is exact, so the centre is bit for bit PIL's for the same pixel of the uncropped resize.
    const centre = (offset + x + 0.5) * scale;
    const lo = Math.max(0, Math.trunc(centre - support + 0.5));
    const hi = Math.min(inSize, Math.trunc(centre + support + 0.5));
    let sum = 0;
    const base = x * taps;
    for (let i = lo; i < hi; i++) {
      const t = Math.abs((i - centre + 0.5) * inverse);
      const w = t < 1 ? 1 - t : 0;
      weights[base + i - lo] = w;
      sum += w;
    }
    if (sum !== 0) for (let k = 0; k < hi - lo; k++) weights[base + k] = weights[base + k]! / sum;
    start[x] = lo;
    count[x] = hi - lo;
  }
  return { start, count, weights, taps };
}

/** Whether an axis's taps copy the input unchanged (same size, no crop). */
const isIdentity = (inSize: number, outSize: number, offset: number, length: number): boolean =>
  inSize === outSize && offset === 0 && length === outSize;

/** Rows `y0 .. y1` of `image` resized along x into float64 (`out` holds (y1 - y0) x length x channels). */
function resizeRows(image: RawImage8, y0: number, y1: number, axis: AxisWeights | undefined, length: number) {
  const { width, channels: ch, data } = image;
  const out = new Float64Array((y1 - y0) * length * ch);
  if (!axis) {
    for (let i = 0; i < out.length; i++) out[i] = data[y0 * width * ch + i]!;
    return out;
  }
  const { start, count, weights, taps } = axis;
  for (let y = y0; y < y1; y++) {
    const row = y * width * ch;
    const outRow = (y - y0) * length * ch;
    for (let x = 0; x < length; x++) {
      const base = x * taps;
      const n = count[x]!;
      let p = row + start[x]! * ch;
      if (ch === 1) {
        let s = 0;
        for (let k = 0; k < n; k++) s += weights[base + k]! * data[p + k]!;
        out[outRow + x] = s;
      } else if (ch === 3) {
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        for (let k = 0; k < n; k++, p += 3) {
          const w = weights[base + k]!;
          s0 += w * data[p]!;
          s1 += w * data[p + 1]!;
          s2 += w * data[p + 2]!;
        }
        const o = outRow + x * 3;
        out[o] = s0;
        out[o + 1] = s1;
        out[o + 2] = s2;
      } else {
        for (let c = 0; c < ch; c++) {
          let s = 0;
          for (let k = 0; k < n; k++) s += weights[base + k]! * data[p + k * ch + c]!;
          out[outRow + x * ch + c] = s;
        }
      }
    }
  }
  return out;
}

/** A sample rounded half up and clamped to 0..255. */
function toByte(v: number): number {
  const r = Math.floor(v + 0.5);
  return Math.min(255, Math.max(0, r));
}

/**
 * Resizes an 8-bit image to `resized` with antialiased bilinear interpolation (this file's header gives the
 * arithmetic) and returns the `crop` window of the result (all of it by default), computing only that window.
 * Channels are kept; alpha, if any, is resized like any channel (flatten it first, as the preprocessing does).
 *
 * @param image - 8-bit pixels, HWC.
 * @param resized - the size the whole image is resized to.
 * @param crop - the part of the resized image returned, within `resized`.
 */
export function resizeBilinear(image: RawImage8, resized: ImageSize, crop?: CropRect): RawImage8 {
  checkRawImage(image);
  checkSize(resized, 'resized');
  const window = crop ?? { left: 0, top: 0, width: resized.width, height: resized.height };
  checkCrop(window, resized, 'crop');
  const { channels: ch } = image;
  const horizontal = isIdentity(image.width, resized.width, window.left, window.width)
    ? undefined
    : axisWeights(image.width, resized.width, window.left, window.width);
  const vertical = axisWeights(image.height, resized.height, window.top, window.height);
  // Only the rows that some output row reads are resized along x.
  const y0 = vertical.start[0]!;
  const y1 = vertical.start[window.height - 1]! + vertical.count[window.height - 1]!;
  const rows = resizeRows(image, y0, y1, horizontal, window.width);
  const rowLength = window.width * ch;
  const out = new Uint8Array(window.height * rowLength);
  const { start, count, weights, taps } = vertical;
  for (let y = 0; y < window.height; y++) {
    const base = y * taps;
    const n = count[y]!;
    const first = (start[y]! - y0) * rowLength;
    const o = y * rowLength;
    for (let i = 0; i < rowLength; i++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += weights[base + k]! * rows[first + k * rowLength + i]!;
      out[o + i] = toByte(s);
    }
  }
  return { width: window.width, height: window.height, channels: ch, data: out };
}

/** Throws unless `rect` is a non-empty rectangle of whole pixels inside `size`. */
export function checkCrop(rect: CropRect, size: ImageSize, field: string): void {
  checkSize(rect, field);
  const { left, top, width, height } = rect;
  if (!Number.isInteger(left) || !Number.isInteger(top) || left < 0 || top < 0)
    throw new DepthfoldInputError(`${field}.left/top`, 'integers >= 0', { left, top });
  if (left + width > size.width || top + height > size.height)
    throw new DepthfoldInputError(field, `a rectangle inside ${size.height}x${size.width} (height x width)`, {
      left,
      top,
      width,
      height,
    });
}

/** The `rect` part of an image, copied. */
export function cropImage(image: RawImage8, rect: CropRect): RawImage8 {
  checkRawImage(image);
  checkCrop(rect, image, 'crop');
  const { channels: ch, data } = image;
  if (rect.left === 0 && rect.top === 0 && rect.width === image.width && rect.height === image.height) return image;
  const out = new Uint8Array(rect.width * rect.height * ch);
  const rowLength = rect.width * ch;
  for (let y = 0; y < rect.height; y++) {
    const from = ((rect.top + y) * image.width + rect.left) * ch;
    out.set(data.subarray(from, from + rowLength), y * rowLength);
  }
  return { width: rect.width, height: rect.height, channels: ch, data: out };
}
