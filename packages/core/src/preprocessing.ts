// How an image becomes the network's input, as data that travels with a model (timm's `pretrained_cfg` lesson): a
// runtime replays these steps and knows nothing else of how the model was trained.
//   1. decode; an alpha channel is flattened onto `background`;
//   2. convert to `colour` (grey = ITU-R BT.601 luma, 0.299 R + 0.587 G + 0.114 B);
//   3. resize to the input's height x width by `resize` with antialiased bilinear interpolation;
//   4. normalise each channel: x = (pixel / 255 - mean[c]) / std[c] (the model's `normalization`).
import { z } from 'zod';

/**
 * How an image of another size becomes the input size:
 * - `exact`: it must already have the input's size (the built-in datasets at their own size);
 * - `stretch`: both sides are resized to the input's, whatever the aspect ratio;
 * - `shorter-side-crop`: the shorter side is resized to `input / cropFraction` and the centre is cropped, as
 *   ImageNet evaluation does (resize 256, crop 224: cropFraction 0.875).
 */
export const RESIZE_MODES = ['exact', 'stretch', 'shorter-side-crop'] as const;

/** A resize mode of {@link RESIZE_MODES}. */
export type ResizeMode = (typeof RESIZE_MODES)[number];

/** Resampling filters: `bilinear` is a triangle filter widened by the reduction factor when shrinking (PIL's). */
export const INTERPOLATIONS = ['bilinear'] as const;

/** The colours an input may have, by channel count: grey has one channel, rgb three. */
export const COLOURS = ['grey', 'rgb'] as const;

/** A colour of {@link COLOURS}. */
export type Colour = (typeof COLOURS)[number];

const byte = z.number().int().min(0).max(255);

/** The preprocessing of a model's input, steps 1-3 above (normalisation is the model's `normalization`). */
export const preprocessingSchema = z.object({
  resize: z.enum(RESIZE_MODES),
  interpolation: z.enum(INTERPOLATIONS),
  /** The centre crop's share of the resized shorter side (`shorter-side-crop`); 1 crops nothing. */
  cropFraction: z.number().gt(0).max(1),
  colour: z.enum(COLOURS),
  /** RGB the alpha channel is flattened onto. */
  background: z.tuple([byte, byte, byte]),
});

/** The preprocessing of a model's input. */
export type Preprocessing = z.output<typeof preprocessingSchema>;

/** The colour of an input with this many channels. */
export function colourOf(channels: number): Colour {
  if (channels === 1) return 'grey';
  if (channels === 3) return 'rgb';
  throw new RangeError(`an input has 1 (grey) or 3 (rgb) channels, received ${channels}`);
}

/**
 * The preprocessing of the built-in datasets at their own size, and of every model exported before preprocessing
 * was recorded: images must already have the input's size.
 */
export function exactPreprocessing(channels: number): Preprocessing {
  return {
    resize: 'exact',
    interpolation: 'bilinear',
    cropFraction: 1,
    colour: colourOf(channels),
    background: [0, 0, 0],
  };
}
