// The resize against PIL's own (Image.resize(size, BILINEAR, reducing_gap=None)), the reference that torchvision
// and timm use: the largest difference in levels on real-ish images, for grey and RGB. PIL rounds its weights to
// fixed point and its rows to uint8 between passes, we round once from float64: the target is at most 1 level.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '@depthfold/core';
import {
  greyOf,
  randomResizedCropRect,
  resizeBilinear,
  resizeGeometry,
  toColour,
  type RawImage8,
} from '../src/index.js';
import { difference, fashionImage, needsPil, photoLike, pil, type PilOp } from './helpers.js';

interface Case {
  name: string;
  image: RawImage8;
  size: [number, number];
  crop?: [number, number, number, number];
  before?: boolean;
  ours: Uint8Array;
}

function report(cases: Case[], results: { pixels: Uint8Array }[]): number {
  let worst = 0;
  cases.forEach((c, i) => {
    const { max, count } = difference(c.ours, results[i]!.pixels);
    console.log(`${c.name}: largest difference ${max} level(s), ${count} of ${c.ours.length} samples differ`);
    worst = Math.max(worst, max);
  });
  return worst;
}

const opOf = (c: Case): PilOp => ({
  op: 'resize',
  mode: c.image.channels === 1 ? 'L' : 'RGB',
  width: c.image.width,
  height: c.image.height,
  pixels: c.image.data as Uint8Array,
  size: c.size,
  ...(c.crop ? { crop: c.crop, before: c.before ?? false } : {}),
});

test('resize matches PIL within 1 level: a Fashion-MNIST image 28 -> 64, a photo-like image 640x480 -> 64x64', (t) => {
  if (!needsPil(t)) return;
  const cases: Case[] = [];
  for (const index of [0, 1, 17]) {
    const grey: RawImage8 = { width: 28, height: 28, channels: 1, data: fashionImage(index) };
    const rgb = toColour(grey, 'rgb', [0, 0, 0]);
    for (const image of [grey, rgb])
      cases.push({
        name: `Fashion-MNIST #${index} ${image.channels === 1 ? 'grey' : 'RGB'} 28x28 -> 64x64`,
        image,
        size: [64, 64],
        ours: resizeBilinear(image, { width: 64, height: 64 }).data as Uint8Array,
      });
  }
  const photo: RawImage8 = { width: 640, height: 480, channels: 3, data: photoLike(640, 480) };
  const photoGrey = toColour(photo, 'grey', [0, 0, 0]);
  for (const image of [photo, photoGrey]) {
    const kind = image.channels === 1 ? 'grey' : 'RGB';
    cases.push({
      name: `photo-like ${kind} 640x480 -> 64x64 (stretch)`,
      image,
      size: [64, 64],
      ours: resizeBilinear(image, { width: 64, height: 64 }).data as Uint8Array,
    });
    // shorter-side-crop is torchvision's Resize(73) + CenterCrop(64): PIL resizes to 97x73 and crops.
    const g = resizeGeometry(640, 480, { resize: 'shorter-side-crop', cropFraction: 0.875 }, { height: 64, width: 64 });
    const { left, top, width, height } = g.crop;
    cases.push({
      name: `photo-like ${kind} 640x480 -> ${g.resized.width}x${g.resized.height}, centre 64x64 (shorter-side-crop 0.875)`,
      image,
      size: [g.resized.width, g.resized.height],
      crop: [left, top, left + width, top + height],
      ours: resizeBilinear(image, g.resized, g.crop).data as Uint8Array,
    });
    // Random resized crop: PIL crops, then resizes.
    const rng = createRng(3);
    for (let k = 0; k < 3; k++) {
      const r = randomResizedCropRect(640, 480, () => rng.next());
      const cropped = { ...image, width: r.width, height: r.height, data: cropOf(image, r) };
      cases.push({
        name: `photo-like ${kind} random resized crop ${r.width}x${r.height}+${r.left}+${r.top} -> 64x64`,
        image,
        size: [64, 64],
        crop: [r.left, r.top, r.left + r.width, r.top + r.height],
        before: true,
        ours: resizeBilinear(cropped, { width: 64, height: 64 }).data as Uint8Array,
      });
    }
  }
  // Enlarging a photo crop (a small image shown to a bigger network).
  cases.push({
    name: 'photo-like RGB 640x480 -> 1000x700 (enlarge)',
    image: photo,
    size: [1000, 700],
    ours: resizeBilinear(photo, { width: 1000, height: 700 }).data as Uint8Array,
  });
  const worst = report(cases, pil(cases.map(opOf)));
  console.log(`largest difference from PIL over all cases: ${worst} level(s)`);
  assert.ok(worst <= 1, `largest difference ${worst} levels`);
});

function cropOf(image: RawImage8, r: { left: number; top: number; width: number; height: number }): Uint8Array {
  const out = new Uint8Array(r.width * r.height * image.channels);
  for (let y = 0; y < r.height; y++)
    out.set(
      image.data.subarray(
        ((r.top + y) * image.width + r.left) * image.channels,
        ((r.top + y) * image.width + r.left + r.width) * image.channels,
      ),
      y * r.width * image.channels,
    );
  return out;
}

test("grey conversion is within 1 level of PIL's convert('L') (PIL: 16-bit fixed-point weights)", (t) => {
  if (!needsPil(t)) return;
  // Every 6-bit-per-channel colour: 262144 pixels.
  const data = new Uint8Array(64 * 64 * 64 * 3);
  for (let i = 0; i < 64 * 64 * 64; i++) {
    data[i * 3] = ((i >> 12) & 63) * 4 + 1;
    data[i * 3 + 1] = ((i >> 6) & 63) * 4 + 2;
    data[i * 3 + 2] = (i & 63) * 4 + 3;
  }
  const [ref] = pil([{ op: 'convert', mode: 'RGB', width: 512, height: 512, pixels: data, to: 'L' }]);
  const ours = Uint8Array.from({ length: 512 * 512 }, (_, i) =>
    greyOf(data[i * 3]!, data[i * 3 + 1]!, data[i * 3 + 2]!),
  );
  const { max, count } = difference(ours, ref!.pixels);
  console.log(`grey vs PIL convert('L'): largest difference ${max}, ${count} of ${ours.length} pixels differ`);
  assert.ok(max <= 1);
});
