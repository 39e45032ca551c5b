// Image files for the folder tests: small folders of classes whose images a network tells apart (stripes in one
// direction per class, with seeded noise), written as PNGs by @depthfold/testing's encoder.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRng } from '@depthfold/core';
import { encodePng } from '@depthfold/testing';

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
