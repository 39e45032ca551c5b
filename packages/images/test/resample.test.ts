// The resize kernel against hand-computed cases: antialiased bilinear taps, the half-up rounding, crops computed
// without the full resize, channels kept apart, and its speed on a large photo.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cropImage, preprocessImage, resizeBilinear, type RawImage8 } from '../src/index.js';
import { photoLike } from './helpers.js';

const row = (values: number[]): RawImage8 => ({
  width: values.length,
  height: 1,
  channels: 1,
  data: Uint8Array.from(values),
});
const column = (values: number[]): RawImage8 => ({
  width: 1,
  height: values.length,
  channels: 1,
  data: Uint8Array.from(values),
});

test('shrinking 4 -> 2 widens the triangle by the scale: taps 3/7, 3/7, 1/7', () => {
  // x = 0: centre 1, support 2, inputs 0..2 weighted tri(-0.25), tri(0.25), tri(0.75) = 0.75, 0.75, 0.25.
  // (0*3 + 100*3 + 200*1) / 7 = 71.43 -> 71; x = 1: (100*1 + 200*3 + 255*3) / 7 = 209.29 -> 209.
  assert.deepEqual([...resizeBilinear(row([0, 100, 200, 255]), { width: 2, height: 1 }).data], [71, 209]);
  assert.deepEqual([...resizeBilinear(column([0, 100, 200, 255]), { width: 1, height: 2 }).data], [71, 209]);
});

test('enlarging 2 -> 4 interpolates linearly and clamps at the edges', () => {
  // Centres 0.25, 0.75, 1.25, 1.75: 0, 0.75*0 + 0.25*100, 0.25*0 + 0.75*100, 100.
  assert.deepEqual([...resizeBilinear(row([0, 100]), { width: 4, height: 1 }).data], [0, 25, 75, 100]);
});

test('each sample is rounded once, half up', () => {
  // 2 -> 1: both inputs weigh 0.5: 0.5 -> 1, 2.5 -> 3, 254.5 -> 255.
  assert.deepEqual([...resizeBilinear(row([0, 1]), { width: 1, height: 1 }).data], [1]);
  assert.deepEqual([...resizeBilinear(row([2, 3]), { width: 1, height: 1 }).data], [3]);
  assert.deepEqual([...resizeBilinear(row([254, 255]), { width: 1, height: 1 }).data], [255]);
  // 2x2 -> 1x1: (0 + 100 + 200 + 255) / 4 = 138.75 -> 139, rounded after both passes (not 50 and 228 first).
  const square: RawImage8 = { width: 2, height: 2, channels: 1, data: Uint8Array.from([0, 100, 200, 255]) };
  assert.deepEqual([...resizeBilinear(square, { width: 1, height: 1 }).data], [139]);
});

test('the same size copies the pixels', () => {
  const image: RawImage8 = { width: 37, height: 23, channels: 3, data: photoLike(37, 23) };
  const out = resizeBilinear(image, { width: 37, height: 23 });
  assert.deepEqual(out.data, image.data);
  assert.notEqual(out.data, image.data);
});

test('a crop of a resize is the same bytes as resizing all and cropping', () => {
  const image: RawImage8 = { width: 120, height: 90, channels: 3, data: photoLike(120, 90, 7) };
  for (const [resized, crop] of [
    [
      { width: 85, height: 64 },
      { left: 10, top: 0, width: 64, height: 64 },
    ],
    [
      { width: 300, height: 200 },
      { left: 117, top: 31, width: 64, height: 48 },
    ],
  ] as const) {
    const full = resizeBilinear(image, resized);
    assert.deepEqual(resizeBilinear(image, resized, crop).data, cropImage(full, crop).data);
  }
});

test('channels are resized apart: RGB equals three grey resizes', () => {
  const rgb = photoLike(50, 31, 3);
  const out = resizeBilinear({ width: 50, height: 31, channels: 3, data: rgb }, { width: 17, height: 40 });
  for (let c = 0; c < 3; c++) {
    const plane = Uint8Array.from({ length: 50 * 31 }, (_, i) => rgb[i * 3 + c]!);
    const grey = resizeBilinear({ width: 50, height: 31, channels: 1, data: plane }, { width: 17, height: 40 });
    assert.deepEqual(
      Uint8Array.from({ length: 17 * 40 }, (_, i) => out.data[i * 3 + c]!),
      grey.data,
    );
  }
});

test('bad sizes and crops are refused naming the field', () => {
  const image = row([1, 2, 3]);
  assert.throws(
    () => resizeBilinear(image, { width: 0, height: 1 }),
    /resized\.width: expected a positive integer, received 0/,
  );
  assert.throws(
    () => resizeBilinear(image, { width: 3, height: 1 }, { left: 1, top: 0, width: 3, height: 1 }),
    /crop: expected a rectangle inside 1x3/,
  );
  assert.throws(
    () => resizeBilinear({ width: 2, height: 2, channels: 3, data: new Uint8Array(11) }, { width: 1, height: 1 }),
    /image\.data\.length: expected 12 samples \(2 x 2 x 3\), received 11/,
  );
});

test('a 4000x3000 RGB photo becomes a 64x64 input in well under a second', () => {
  const width = 4000;
  const height = 3000;
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
  const timings: string[] = [];
  for (const resize of ['stretch', 'shorter-side-crop'] as const)
    for (const colour of ['rgb', 'grey'] as const) {
      const started = performance.now();
      const out = preprocessImage(
        { width, height, channels: 3, data },
        { resize, interpolation: 'bilinear', cropFraction: 0.875, colour, background: [0, 0, 0] },
        { height: 64, width: 64 },
      );
      const ms = performance.now() - started;
      assert.equal(out.data.length, 64 * 64 * (colour === 'grey' ? 1 : 3));
      timings.push(`${resize} ${colour} ${ms.toFixed(0)} ms`);
      assert.ok(ms < 1000, `${resize} ${colour}: ${ms.toFixed(0)} ms`);
    }
  console.log(`4000x3000 RGB -> 64x64: ${timings.join(', ')}`);
});
