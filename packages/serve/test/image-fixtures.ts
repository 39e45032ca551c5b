// Models that take images of any size, and encoded images of other sizes than theirs, for the BYTES tests: `photo`, a
// random ResNet-8 on 32x32x3 whose preprocessing is ImageNet's (shorter side to 32 / 0.875, centre crop), and `grey`,
// one on 28x28x1 that stretches any image and converts it to grey; beside them the exact fixture (28x28x1, resize
// 'exact'). The images are seeded and written by sharp: a JPEG, an RGBA PNG (alpha flattened onto the background)
// and a WebP, none of the models' sizes nor aspect ratios.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Preprocessing } from '@depthfold/core';
import * as onnx from '@depthfold/onnx';
import { CASES, modelBytesOf, randomCheckpoint } from '@depthfold/testing';
import sharp from 'sharp';

/** ImageNet's evaluation resize, on an RGB model, alpha onto a background whose channels differ. */
export const PHOTO_PREPROCESSING: Preprocessing = {
  resize: 'shorter-side-crop',
  interpolation: 'bilinear',
  cropFraction: 0.875,
  colour: 'rgb',
  background: [250, 128, 6],
};

/** Any image stretched to the input and made grey. */
export const GREY_PREPROCESSING: Preprocessing = {
  resize: 'stretch',
  interpolation: 'bilinear',
  cropFraction: 1,
  colour: 'grey',
  background: [255, 255, 255],
};

/** The served names of the image models, with their inputs. */
export const PHOTO = { name: 'photo', channels: 3, height: 32, width: 32 } as const;
export const GREY = { name: 'grey', channels: 1, height: 28, width: 28 } as const;
export const EXACT = { name: 'exact', channels: 1, height: 28, width: 28 } as const;

/** Writes the three models as `<name>.onnx` into `dir`; returns their paths by name. */
export function writeImageModels(dir: string): Record<'photo' | 'grey' | 'exact', string> {
  const photo = randomCheckpoint(CASES[1]!);
  const grey = randomCheckpoint(CASES[0]!);
  const paths = {
    photo: join(dir, `${PHOTO.name}.onnx`),
    grey: join(dir, `${GREY.name}.onnx`),
    exact: join(dir, `${EXACT.name}.onnx`),
  };
  writeFileSync(
    paths.photo,
    modelBytesOf(onnx, { ...photo, info: { ...photo.info, preprocessing: PHOTO_PREPROCESSING } }),
  );
  writeFileSync(paths.grey, modelBytesOf(onnx, { ...grey, info: { ...grey.info, preprocessing: GREY_PREPROCESSING } }));
  writeFileSync(paths.exact, modelBytesOf(onnx, grey));
  return paths;
}

/** Seeded pixels with some structure (gradients and noise), so that a resize has something to average. */
export function seededPixels(width: number, height: number, channels: number, seed: number): Uint8Array {
  let s = seed >>> 0;
  const out = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      for (let c = 0; c < channels; c++) {
        s = (s * 1103515245 + 12345) >>> 0;
        const noise = (s >>> 24) - 128;
        const base = c === 3 ? 64 + (x * 191) / width : ((x * 255) / width + (y * 255) / height + c * 80) / 2;
        out[(y * width + x) * channels + c] = Math.max(0, Math.min(255, Math.round(base + noise / 3)));
      }
  return out;
}

/** Encoded test images: name, bytes and the size they hold. */
export interface TestImage {
  readonly name: string;
  readonly bytes: Buffer;
  readonly width: number;
  readonly height: number;
}

/** A 61x47 RGB JPEG, a 45x37 RGBA PNG and a 50x64 RGB WebP, written into `dir` too. */
export async function writeTestImages(dir: string): Promise<TestImage[]> {
  const raw = (width: number, height: number, channels: 3 | 4, seed: number) =>
    sharp(Buffer.from(seededPixels(width, height, channels, seed)), { raw: { width, height, channels } });
  const images: TestImage[] = [
    { name: 'photo.jpg', bytes: await raw(61, 47, 3, 1).jpeg({ quality: 90 }).toBuffer(), width: 61, height: 47 },
    { name: 'rgba.png', bytes: await raw(45, 37, 4, 2).png().toBuffer(), width: 45, height: 37 },
    { name: 'tall.webp', bytes: await raw(50, 64, 3, 3).webp({ quality: 90 }).toBuffer(), width: 50, height: 64 },
  ];
  for (const image of images) writeFileSync(join(dir, image.name), image.bytes);
  return images;
}

/** A PNG of exactly the exact model's 28x28, grey. */
export async function exactSizePng(): Promise<Buffer> {
  return sharp(Buffer.from(seededPixels(28, 28, 1, 4)), { raw: { width: 28, height: 28, channels: 1 } })
    .png()
    .toBuffer();
}

/** BYTES elements as the binary tensor data extension lays them out: a 4-byte little-endian length, then the bytes. */
export function lengthPrefixed(elements: readonly Uint8Array[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of elements) {
    const length = Buffer.alloc(4);
    length.writeUInt32LE(e.length);
    parts.push(length, Buffer.from(e));
  }
  return Buffer.concat(parts);
}
