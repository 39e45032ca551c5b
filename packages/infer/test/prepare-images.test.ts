// The platform-free preparation of a batch: ImageData (RGBA) is decoded pixels like any other, alpha flattened onto
// the model's background and grey taken as rounded BT.601 luma (computed here by hand); the platform's reader is
// asked before anything decodes, at most DECODE_CONCURRENCY images decode at once, and the error of a batch is that
// of its earliest bad image, whatever the timing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Preprocessing } from '@depthfold/core';
import type { RawImage } from '@depthfold/images';
import {
  DECODE_CONCURRENCY,
  InferImageError,
  InferInputError,
  isEncodedImage,
  isRawImage,
  isRgbaImage,
  prepareImages,
  rgbaToRaw,
  type ImageReader,
  type ModelInput,
  type RgbaImage,
} from '../src/common/index.js';
import { failsWith } from './helpers.js';

const exact = (channels: 1 | 3): Preprocessing => ({
  resize: 'exact',
  interpolation: 'bilinear',
  cropFraction: 1,
  colour: channels === 1 ? 'grey' : 'rgb',
  background: [0, 0, 0],
});
const GREY: ModelInput = { input: { height: 2, width: 3, channels: 1 }, preprocessing: exact(1) };
const RGB: ModelInput = { input: { height: 2, width: 3, channels: 3 }, preprocessing: exact(3) };

const pixels: [number, number, number, number][] = [
  [10, 20, 30, 255],
  [200, 200, 200, 0],
  [255, 0, 0, 255],
  [0, 255, 0, 128],
  [0, 0, 255, 255],
  [7, 7, 7, 255],
];
const six: RgbaImage = { data: Uint8ClampedArray.from(pixels.flat()), width: 3, height: 2 };

/** c flattened onto black by alpha a: round(c a / 255); c a / 255 is never a half (255 is odd). */
const onBlack = (c: number, a: number): number => Math.round((c * a) / 255);

test('an ImageData is RGBA pixels: alpha flattened onto the background, then R, G, B or the rounded luma', async () => {
  const [rgb] = await prepareImages(rgbaToRaw(six), RGB, 'HWC');
  assert.deepEqual(
    Array.from(rgb!),
    pixels.flatMap(([r, g, b, a]) => [onBlack(r, a), onBlack(g, a), onBlack(b, a)]),
  );
  const [grey] = await prepareImages(rgbaToRaw(six), GREY, 'HWC');
  assert.ok(grey instanceof Uint8Array);
  const luma = pixels.map(([r, g, b, a]) =>
    Math.round(0.299 * onBlack(r, a) + 0.587 * onBlack(g, a) + 0.114 * onBlack(b, a)),
  );
  assert.deepEqual(Array.from(grey), luma);
  assert.equal(grey[5], 7, 'an opaque grey pixel keeps its value');
  const [chw] = await prepareImages(rgbaToRaw(six), RGB, 'CHW');
  assert.deepEqual(
    Array.from(chw!),
    [0, 1, 2].flatMap((c) => Array.from(rgb!.filter((_, k) => k % 3 === c))),
  );
});

test('the shapes are told apart by their fields: ImageData has no channels, a raw image has, encoded has encoded', () => {
  assert.equal(isRgbaImage(six), true);
  assert.equal(isRgbaImage({ data: new Uint8Array(24), width: 3, height: 2 }), false);
  assert.equal(isRgbaImage({ ...six, channels: 4 }), false, 'a raw image of 4 channels');
  assert.equal(isRgbaImage(new Uint8ClampedArray(24)), false);
  assert.equal(isRgbaImage(null), false);
  assert.equal(isRawImage({ width: 1, height: 1, channels: 1, data: new Uint8Array(1) }), true);
  assert.equal(isRawImage(new Uint8Array(3)), false);
  assert.equal(isEncodedImage({ encoded: new Uint8Array(3) }), true);
  assert.equal(isEncodedImage(new Uint8Array(3)), false);
});

test('without a reader, ImageData, paths and encoded bytes are refused, naming what is taken', async () => {
  for (const [image, received] of [
    [six, 'object'],
    ['photo.png', 'string'],
  ] as const) {
    await assert.rejects(
      prepareImages([new Uint8Array(6), image], GREY, 'HWC'),
      failsWith(
        InferInputError,
        new RegExp(
          `^images\\[1\\]: expected a Uint8Array or Float32Array of raw pixels, a raw image \\{ width, height, channels, data \\}, nothing else here, received "${received}"$`,
        ),
      ),
    );
  }
  await assert.rejects(
    prepareImages([], GREY, 'HWC'),
    failsWith(InferInputError, /^images: expected at least one image/),
  );
});

/** A reader of `{ id, delay, fail }` objects, recording how many reads run at once. */
function slowReader(stats: { running: number; most: number; reads: number }): ImageReader {
  return {
    kinds: 'a test image',
    accepts: (value) => typeof value === 'object' && value !== null && 'delay' in value,
    async read(value, index): Promise<RawImage> {
      const { delay, fail } = value as { delay: number; fail: boolean };
      stats.reads++;
      stats.running++;
      stats.most = Math.max(stats.most, stats.running);
      await new Promise((resolve) => setTimeout(resolve, delay));
      stats.running--;
      if (fail) throw new InferImageError(index, `file${index}`, 'broken', 'corrupt');
      return { width: 3, height: 2, channels: 1, data: new Uint8Array(6).fill(index) };
    },
  };
}

test(`at most ${DECODE_CONCURRENCY} images decode at once, and results keep the batch's order`, async () => {
  const stats = { running: 0, most: 0, reads: 0 };
  const batch = Array.from({ length: 11 }, (_, i) => ({ delay: (i * 7) % 5, fail: false }));
  const out = await prepareImages(batch, GREY, 'HWC', slowReader(stats));
  assert.deepEqual(
    out.map((p) => p[0]),
    batch.map((_, i) => i),
  );
  assert.equal(stats.most, DECODE_CONCURRENCY);
  assert.equal(stats.reads, 11);
});

test('the earliest bad image is reported, even when a later one fails first; no new decode starts after', async () => {
  const stats = { running: 0, most: 0, reads: 0 };
  const batch = [
    { delay: 1, fail: false },
    { delay: 30, fail: true },
    { delay: 1, fail: false },
    { delay: 1, fail: true },
    ...Array.from({ length: 20 }, () => ({ delay: 1, fail: false })),
  ];
  await assert.rejects(
    prepareImages(batch, GREY, 'HWC', slowReader(stats)),
    failsWith(InferImageError, /^images\[1\] \(file1\): broken$/),
  );
  assert.ok(stats.reads < batch.length, `${stats.reads} reads of ${batch.length}`);
  assert.equal(stats.running, 0, 'every decode under way finished before the error');
});
