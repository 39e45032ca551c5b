// Image files for the folder tests, written without a decoder library: 8-bit PNGs (grey or RGB, filter 0), a PNG
// decompression bomb, and small folders of classes whose images a network tells apart (stripes in one direction per
// class, with seeded noise).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { createRng } from '@depthfold/core';

/** CRC-32 of PNG chunks. */
function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

const SIGNATURE = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** A PNG of HWC pixels: 1 channel (grey) or 3 (RGB), 8-bit. */
export function encodePng(width: number, height: number, channels: 1 | 3, pixels: Uint8Array): Uint8Array {
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr.set([8, channels === 1 ? 0 : 2, 0, 0, 0], 8);
  const stride = width * channels;
  const rows = new Uint8Array(height * (stride + 1));
  for (let y = 0; y < height; y++) rows.set(pixels.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  return Buffer.concat([
    SIGNATURE,
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/** A valid 1-bit grey PNG of width x height, all black: refused from its header when over the pixel limit. */
export function pngBomb(width: number, height: number): Uint8Array {
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr.set([1, 0, 0, 0, 0], 8);
  const rows = Buffer.alloc(height * (1 + Math.ceil(width / 8)));
  return Buffer.concat([
    SIGNATURE,
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/**
 * An RGB image of class `label`: stripes at an angle of `label` x 60 degrees, a colour per class, and seeded noise;
 * `seed` varies the phase and the noise.
 */
export function classImage(label: number, width: number, height: number, seed: number): Uint8Array {
  const rng = createRng(seed * 7919 + label);
  const angle = (label * Math.PI) / 3;
  const [dx, dy] = [Math.cos(angle), Math.sin(angle)];
  const phase = rng.next() * 6;
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const on = Math.sin((x * dx + y * dy) * 1.2 + phase) > 0;
      for (let c = 0; c < 3; c++) {
        const base = on ? 60 + 60 * ((label + c) % 3) : 30;
        out[(y * width + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(base + (rng.next() - 0.5) * 40)));
      }
    }
  return out;
}

/** Writes DIR/<class>/<n>.png: `perClass` images of each class, `width` x `height` RGB. Returns the class names. */
export function writeClassFolder(
  dir: string,
  classes: readonly string[],
  perClass: number,
  size: { width: number; height: number } = { width: 20, height: 16 },
): void {
  classes.forEach((name, label) => {
    mkdirSync(join(dir, name), { recursive: true });
    for (let n = 0; n < perClass; n++)
      writeFileSync(
        join(dir, name, `${String(n).padStart(3, '0')}.png`),
        encodePng(size.width, size.height, 3, classImage(label, size.width, size.height, n + 1)),
      );
  });
}
