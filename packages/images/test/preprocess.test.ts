// Preprocessing steps 1-3 by hand: 16 -> 8 bits, alpha flattening, grey, the geometry of each resize mode, and the
// random resized crop's recipe (torchvision's draws, its fallback).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng, type Preprocessing } from '@depthfold/core';
import {
  flattenSample,
  greyOf,
  preprocessImage,
  randomResizedCrop,
  randomResizedCropRect,
  resizeGeometry,
  roundHalfEven,
  to8Bit,
  toColour,
} from '../src/index.js';

const prep = (over: Partial<Preprocessing> = {}): Preprocessing => ({
  resize: 'stretch',
  interpolation: 'bilinear',
  cropFraction: 1,
  colour: 'rgb',
  background: [0, 0, 0],
  ...over,
});

test('16-bit samples become round(v / 257)', () => {
  const data = Uint16Array.from([0, 128, 129, 385, 386, 32767, 32768, 65406, 65407, 65535]);
  const out = to8Bit({ width: data.length, height: 1, channels: 1, data });
  // 385 / 257 = 1.498 -> 1, 386 / 257 = 1.502 -> 2; 65406 / 257 = 254.498 -> 254, 65407 / 257 = 254.502 -> 255.
  assert.deepEqual([...out.data], [0, 0, 1, 1, 2, 127, 128, 254, 255, 255]);
  for (let v = 0; v < 65536; v += 7)
    assert.equal(to8Bit({ width: 1, height: 1, channels: 1, data: Uint16Array.of(v) }).data[0], Math.round(v / 257));
});

test('alpha is flattened onto the background: round((c a + b (255 - a)) / 255)', () => {
  assert.equal(flattenSample(200, 255, 17), 200);
  assert.equal(flattenSample(200, 0, 17), 17);
  assert.equal(flattenSample(200, 128, 0), 100); // 25600 / 255 = 100.39
  assert.equal(flattenSample(200, 128, 255), 227); // (25600 + 32385) / 255 = 227.39
  assert.equal(flattenSample(1, 128, 0), 1); // 128 / 255 = 0.502
  assert.equal(flattenSample(1, 127, 0), 0); // 127 / 255 = 0.498
});

test('grey is round(0.299 R + 0.587 G + 0.114 B), ties up', () => {
  assert.equal(greyOf(255, 0, 0), 76); // 76.245
  assert.equal(greyOf(0, 255, 0), 150); // 149.685
  assert.equal(greyOf(0, 0, 255), 29); // 29.07
  assert.equal(greyOf(10, 20, 30), 18); // 2.99 + 11.74 + 3.42 = 18.15
  for (let v = 0; v < 256; v++) assert.equal(greyOf(v, v, v), v);
  // A tie (299 R + 587 G + 114 B ending in 500) rounds up.
  let tie: [number, number, number] | undefined;
  for (let r = 0; r < 256 && !tie; r++)
    for (let b = 0; b < 256 && !tie; b++) if ((299 * r + 114 * b) % 1000 === 500) tie = [r, 0, b];
  assert.ok(tie, 'a tie exists');
  assert.equal(greyOf(...tie!), (299 * tie![0] + 114 * tie![2] + 500) / 1000);
});

test('toColour: RGBA onto a background, to grey; grey to rgb replicates; grey + alpha', () => {
  const rgba = {
    width: 2,
    height: 1,
    channels: 4 as const,
    data: Uint8Array.from([200, 100, 50, 128, 10, 20, 30, 255]),
  };
  const rgb = toColour(rgba, 'rgb', [255, 255, 255]);
  assert.deepEqual([...rgb.data], [227, 177, 152, 10, 20, 30]);
  const grey = toColour(rgba, 'grey', [255, 255, 255]);
  assert.deepEqual([...grey.data], [greyOf(227, 177, 152), greyOf(10, 20, 30)]);
  const g = { width: 2, height: 1, channels: 1 as const, data: Uint8Array.from([9, 250]) };
  assert.deepEqual([...toColour(g, 'rgb', [0, 0, 0]).data], [9, 9, 9, 250, 250, 250]);
  const ga = { width: 1, height: 1, channels: 2 as const, data: Uint8Array.from([200, 128]) };
  assert.deepEqual([...toColour(ga, 'rgb', [0, 255, 0]).data], [100, 227, 100]);
});

test('shorter-side-crop follows torchvision: Resize(floor(224 / 0.875)) then CenterCrop(224)', () => {
  // 400x300 (width x height): shorter side 300 -> 256, longer int(256 * 400 / 300) = 341; left round(58.5) = 58.
  assert.deepEqual(
    resizeGeometry(400, 300, { resize: 'shorter-side-crop', cropFraction: 0.875 }, { height: 224, width: 224 }),
    {
      resized: { height: 256, width: 341 },
      crop: { left: 58, top: 16, width: 224, height: 224 },
    },
  );
  // Portrait: the width limits.
  assert.deepEqual(
    resizeGeometry(30, 50, { resize: 'shorter-side-crop', cropFraction: 0.875 }, { height: 64, width: 64 }),
    {
      resized: { height: 121, width: 73 },
      crop: { left: 4, top: 28, width: 64, height: 64 },
    },
  );
  // Crop fraction 1, square image: no crop at all.
  assert.deepEqual(
    resizeGeometry(28, 28, { resize: 'shorter-side-crop', cropFraction: 1 }, { height: 64, width: 64 }),
    {
      resized: { height: 64, width: 64 },
      crop: { left: 0, top: 0, width: 64, height: 64 },
    },
  );
  assert.equal(roundHalfEven(58.5), 58);
  assert.equal(roundHalfEven(59.5), 60);
  assert.equal(roundHalfEven(-1.5), -2);
  assert.equal(roundHalfEven(2.4999), 2);
});

test('exact refuses another size, naming expected and received; stretch resizes both sides', () => {
  const image = { width: 30, height: 20, channels: 1 as const, data: new Uint8Array(600) };
  assert.throws(
    () => preprocessImage(image, prep({ resize: 'exact', colour: 'grey' }), { height: 28, width: 28 }),
    /image size: expected 28x28 \(height x width\) with resize 'exact'.*received "20x30"/,
  );
  const same = preprocessImage(
    { ...image, width: 28, height: 28, data: new Uint8Array(784).fill(7) },
    prep({ resize: 'exact', colour: 'grey' }),
    {
      height: 28,
      width: 28,
    },
  );
  assert.equal(same.data.length, 784);
  assert.ok(same.data.every((v) => v === 7));
  const out = preprocessImage(image, prep(), { height: 10, width: 40 });
  assert.deepEqual([out.height, out.width, out.channels, out.data.length], [10, 40, 3, 1200]);
});

test('preprocessImage runs 8-bit, flatten, colour, then resize', () => {
  // 2x2 RGBA half-transparent red onto white, to grey 1x1: each pixel (255, 128, 128) -> grey 166; mean 166.
  const data = Uint8Array.from(Array.from({ length: 4 }, () => [255, 0, 0, 128]).flat());
  const out = preprocessImage(
    { width: 2, height: 2, channels: 4, data },
    prep({ colour: 'grey', background: [255, 255, 255] }),
    {
      height: 1,
      width: 1,
    },
  );
  assert.equal(flattenSample(0, 128, 255), 127);
  assert.deepEqual([...out.data], [greyOf(255, 127, 127)]);
  // 16-bit input: same as its 8-bit conversion.
  const wide = Uint16Array.from({ length: 12 }, (_, i) => i * 5000);
  const a = preprocessImage({ width: 2, height: 2, channels: 3, data: wide }, prep(), { height: 3, width: 3 });
  const b = preprocessImage(to8Bit({ width: 2, height: 2, channels: 3, data: wide }), prep(), { height: 3, width: 3 });
  assert.deepEqual(a.data, b.data);
});

test("random resized crop draws as torchvision's get_params", () => {
  const draws = [0.5, 0.5, 0.25, 0.75];
  let k = 0;
  // area 10000 * (0.08 + 0.92 * 0.5) = 5400, ratio exp(0) = 1: 73x73 (sqrt 73.48); top floor(0.25 * 28), left floor(0.75 * 28).
  assert.deepEqual(
    randomResizedCropRect(100, 100, () => draws[k++]!),
    { left: 21, top: 7, width: 73, height: 73 },
  );
  assert.equal(k, 4);
  // Ten failed tries (the whole area at ratio 4/3 does not fit), then the centre crop clamped to the ratio range.
  let n = 0;
  const always = () => {
    n++;
    return 0.999999;
  };
  assert.deepEqual(randomResizedCropRect(100, 10, always), { left: 43, top: 0, width: 13, height: 10 });
  assert.equal(n, 20);
  assert.deepEqual(
    randomResizedCropRect(10, 100, () => 0.999999),
    { left: 0, top: 43, width: 10, height: 13 },
  );
  assert.deepEqual(
    randomResizedCropRect(50, 50, () => 0.999999),
    { left: 0, top: 0, width: 50, height: 50 },
  );
});

test('random resized crops are deterministic for a seed and stay inside the image', () => {
  const rects = (seed: number) => {
    const rng = createRng(seed);
    return Array.from({ length: 200 }, () => randomResizedCropRect(64, 48, () => rng.next()));
  };
  assert.deepEqual(rects(5), rects(5));
  assert.notDeepEqual(rects(5), rects(6));
  for (const r of rects(5)) {
    assert.ok(r.left >= 0 && r.top >= 0 && r.left + r.width <= 64 && r.top + r.height <= 48, JSON.stringify(r));
    const share = (r.width * r.height) / (64 * 48);
    assert.ok(share > 0.05 && share <= 1, `share ${share}`);
  }
  const image = {
    width: 64,
    height: 48,
    channels: 3 as const,
    data: Uint8Array.from({ length: 64 * 48 * 3 }, (_, i) => i % 251),
  };
  const a = createRng(9);
  const b = createRng(9);
  const one = randomResizedCrop(image, prep({ colour: 'grey' }), { height: 32, width: 32 }, () => a.next());
  const two = randomResizedCrop(image, prep({ colour: 'grey' }), { height: 32, width: 32 }, () => b.next());
  assert.deepEqual(one.data, two.data);
  assert.equal(one.channels, 1);
  assert.throws(() => randomResizedCropRect(10, 10, Math.random, { scale: [0.5, 0.1] }), /randomResizedCrop\.scale/);
});
