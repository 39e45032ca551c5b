// ImageData (RGBA) to the model's channels, platform-free: luminance for grey models (grey pixels unchanged), R, G, B
// for colour models in either layout, alpha ignored; and the sizes and channel counts it refuses.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkImages, InferInputError, isRgbaImage, rgbaToPixels, type RgbaImage } from '../src/common/index.js';
import { failsWith } from './helpers.js';

const GREY = { height: 2, width: 3, channels: 1 };
const RGB = { height: 2, width: 3, channels: 3 };

function rgba(pixels: readonly (readonly [number, number, number, number])[], width = 3, height = 2): RgbaImage {
  return { data: Uint8ClampedArray.from(pixels.flat()), width, height };
}

const six = rgba([
  [10, 20, 30, 255],
  [200, 200, 200, 0],
  [255, 0, 0, 255],
  [0, 255, 0, 128],
  [0, 0, 255, 255],
  [7, 7, 7, 255],
]);

test('a grey model takes the luminance 0.299 R + 0.587 G + 0.114 B; grey pixels pass unchanged', () => {
  const grey = rgbaToPixels(six, GREY, 'HWC', 'images[0]');
  assert.ok(grey instanceof Float32Array);
  const expected = [0.299 * 10 + 0.587 * 20 + 0.114 * 30, 200, 0.299 * 255, 0.587 * 255, 0.114 * 255, 7];
  expected.forEach((v, k) => assert.ok(Math.abs(grey[k]! - v) < 1e-4, `pixel ${k}: ${grey[k]} vs ${v}`));
  assert.equal(grey[1], 200, 'exactly the grey value, whatever the alpha');
});

test('a colour model takes R, G, B in HWC or CHW; alpha is dropped', () => {
  assert.deepEqual(
    Array.from(rgbaToPixels(six, RGB, 'HWC', 'x')),
    [10, 20, 30, 200, 200, 200, 255, 0, 0, 0, 255, 0, 0, 0, 255, 7, 7, 7],
  );
  assert.deepEqual(
    Array.from(rgbaToPixels(six, RGB, 'CHW', 'x')),
    [10, 200, 255, 0, 0, 7, 20, 200, 0, 255, 0, 7, 30, 200, 0, 0, 255, 7],
  );
});

test('an ImageData of another size, a short buffer, or a model of 2 channels is refused, naming the image', () => {
  assert.throws(
    () => rgbaToPixels({ ...six, width: 2, height: 3 }, GREY, 'HWC', 'images[4]'),
    failsWith(
      InferInputError,
      /^images\[4\]: expected an ImageData of 3x2 \(width x height, the model's size\), received "2x3"$/,
    ),
  );
  assert.throws(
    () => rgbaToPixels({ ...six, data: six.data.subarray(4) }, GREY, 'HWC', 'images[0]'),
    failsWith(InferInputError, /^images\[0\]\.data: expected 24 bytes \(RGBA 3x2\), received 20$/),
  );
  assert.throws(
    () => rgbaToPixels(six, { ...GREY, channels: 2 }, 'HWC', 'images[0]'),
    failsWith(InferInputError, /an ImageData converts to 1 \(grey\) or 3 \(RGB\) channels, the model takes 2/),
  );
});

test('isRgbaImage recognises the shape of ImageData only', () => {
  assert.equal(isRgbaImage(six), true);
  assert.equal(isRgbaImage({ data: new Uint8Array(24), width: 3, height: 2 }), false);
  assert.equal(isRgbaImage(new Uint8ClampedArray(24)), false);
  assert.equal(isRgbaImage(null), false);
});

test('checkImages converts ImageData only where the platform takes it, and says so when it is refused', () => {
  const batch = checkImages([six, new Uint8Array(6)], GREY, 'HWC', true);
  assert.equal(batch.length, 2);
  assert.ok(batch[0] instanceof Float32Array);
  assert.throws(
    () => checkImages([six], GREY, 'HWC', false),
    failsWith(InferInputError, /^images\[0\]: expected a Uint8Array or Float32Array of raw pixels, received "object"$/),
  );
  assert.throws(
    () => checkImages([new Int8Array(6)], GREY, 'HWC', true),
    failsWith(
      InferInputError,
      /^images\[0\]: expected a Uint8Array or Float32Array of raw pixels, or an ImageData, received "Int8Array\(6\)"$/,
    ),
  );
});
