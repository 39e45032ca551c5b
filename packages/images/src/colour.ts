// Preprocessing steps 1 and 2 (packages/core/src/preprocessing.ts): alpha flattened onto the background, then the
// model's colour. Integer arithmetic throughout, so every runtime gets the same bytes:
//   flatten: c' = round((c * a + b * (255 - a)) / 255)            (never a tie: 2 x is even, 255 (2k + 1) odd)
//   grey:    g  = round(0.299 R + 0.587 G + 0.114 B) = floor((299 R + 587 G + 114 B + 500) / 1000)   (ties go up)
//   rgb from grey: R = G = B = g.
import type { Colour } from '@depthfold/core';
import type { RawImage8 } from './raw-image.js';

/** An 8-bit image of 1 (grey) or 3 (rgb) channels. */
export interface ColourImage extends RawImage8 {
  readonly channels: 1 | 3;
}

/** `c` flattened onto `b` by alpha `a`: round((c a + b (255 - a)) / 255). */
export function flattenSample(c: number, a: number, b: number): number {
  return Math.floor((2 * (c * a + b * (255 - a)) + 255) / 510);
}

/** ITU-R BT.601 luma of an 8-bit RGB pixel: round(0.299 R + 0.587 G + 0.114 B), ties up. */
export function greyOf(r: number, g: number, b: number): number {
  return Math.floor((299 * r + 587 * g + 114 * b + 500) / 1000);
}

/**
 * Steps 1-2: the image with its alpha flattened onto `background` and converted to `colour`. An image that already
 * has the colour and no alpha is returned as it is (no copy).
 */
export function toColour(image: RawImage8, colour: Colour, background: readonly [number, number, number]): ColourImage {
  const { width, height, channels, data } = image;
  const outChannels = colour === 'grey' ? 1 : 3;
  if (channels === outChannels) return image as ColourImage;
  const n = width * height;
  const out = new Uint8Array(n * outChannels);
  const [br, bg, bb] = background;
  for (let i = 0; i < n; i++) {
    let r: number;
    let g: number;
    let b: number;
    if (channels <= 2) {
      const v = data[i * channels]!;
      if (channels === 2) {
        const a = data[i * 2 + 1]!;
        r = flattenSample(v, a, br);
        g = flattenSample(v, a, bg);
        b = flattenSample(v, a, bb);
      } else {
        r = g = b = v;
      }
    } else {
      const p = i * channels;
      r = data[p]!;
      g = data[p + 1]!;
      b = data[p + 2]!;
      if (channels === 4) {
        const a = data[p + 3]!;
        r = flattenSample(r, a, br);
        g = flattenSample(g, a, bg);
        b = flattenSample(b, a, bb);
      }
    }
    if (outChannels === 1) {
      // A grey pixel (r = g = b) keeps its value: 299 + 587 + 114 = 1000.
      out[i] = greyOf(r, g, b);
    } else {
      out[i * 3] = r;
      out[i * 3 + 1] = g;
      out[i * 3 + 2] = b;
    }
  }
  return { width, height, channels: outChannels, data: out };
}
