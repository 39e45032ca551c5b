// Decoding with sharp against PIL's own decode: every format and pixel layout (exact, except JPEG within a stated
// bound), EXIF orientation, GIF's first frame, 16-bit samples; bad bytes give one-line errors; a missing sharp
// fails the call that decodes, and only that one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type DecodedImage,
  ImageDecodeError,
  decodeCount,
  decodeImage,
  to8Bit,
  type RawImage,
} from '../src/node/index.js';
import { difference, needsPil, pil, runPython, tempDir } from './helpers.js';

/** Largest difference between libvips's and PIL's JPEG decoding, in levels (both libjpeg-turbo, islow IDCT). */
const JPEG_BOUND = 2;

/** 8-bit RGBA of any decoded image, for comparing layouts that differ (sharp gives grey + alpha as RGBA). */
function rgbaOf(image: RawImage): Uint8Array {
  const { width, height, channels } = image;
  const { data } = to8Bit(image);
  const out = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    const p = i * channels;
    const grey = channels <= 2;
    out[i * 4] = data[p]!;
    out[i * 4 + 1] = grey ? data[p]! : data[p + 1]!;
    out[i * 4 + 2] = grey ? data[p]! : data[p + 2]!;
    out[i * 4 + 3] = channels === 2 ? data[p + 1]! : channels === 4 ? data[p + 3]! : 255;
  }
  return out;
}

const expectedChannels: Record<string, number> = {
  'grey.png': 1,
  'grey-alpha.png': 4,
  'rgb.png': 3,
  'rgba.png': 4,
  'palette.png': 3,
  'palette-transparent.png': 4,
  'rgb.jpg': 3,
  'grey.jpg': 1,
  'rotated.jpg': 3,
  'animated.gif': 3,
  'rgb.tif': 3,
  'rgba.webp': 4,
  'grey16.png': 1,
  'grey-alpha16.png': 4,
  'rgba16.png': 4,
};

test('sharp decodes every format and layout as PIL does: PNG, GIF, TIFF, WebP exactly, JPEG within 2 levels', async (t) => {
  if (!needsPil(t)) return;
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const manifest = JSON.parse(runPython('make-format-samples.py', [dir])) as {
    file: string;
    kind: string;
    exact: boolean;
  }[];
  const refs = pil(manifest.map((m) => ({ op: 'decode' as const, file: join(dir, m.file) })));
  let worstJpeg = 0;
  for (const [i, m] of manifest.entries()) {
    const ref = refs[i]!;
    const ours: DecodedImage = await decodeImage(join(dir, m.file));
    assert.equal(ours.channels, expectedChannels[m.file], `${m.kind}: channels`);
    assert.deepEqual([ours.width, ours.height], [ref.width, ref.height], `${m.kind}: size`);
    const refImage: RawImage = {
      width: ref.width,
      height: ref.height,
      channels: ref.channels as 1 | 2 | 3 | 4,
      data:
        ref.bits === 16 ? new Uint16Array(ref.pixels.buffer, ref.pixels.byteOffset, ref.pixels.length / 2) : ref.pixels,
    };
    const { max, count } = difference(rgbaOf(ours), rgbaOf(refImage));
    console.log(
      `${m.kind} (${m.file}): ${ours.format}, ${ours.channels} channels, ${ours.data instanceof Uint16Array ? 16 : 8}-bit; largest difference from PIL ${max} (${count} samples)`,
    );
    if (m.exact) assert.equal(max, 0, `${m.kind}: largest difference ${max}`);
    else worstJpeg = Math.max(worstJpeg, max);
  }
  console.log(`JPEG: largest difference from PIL ${worstJpeg} level(s) (bound ${JPEG_BOUND})`);
  assert.ok(worstJpeg <= JPEG_BOUND);
  // 16-bit stays 16-bit: grey16.png holds v * 257, exactly what PIL reads.
  const wide = await decodeImage(join(dir, 'grey16.png'));
  assert.ok(wide.data instanceof Uint16Array);
  assert.ok(wide.data.every((v) => v % 257 === 0));
  // EXIF orientation 6: the stored 40x24 image is shown 24x40.
  const rotated = await decodeImage(join(dir, 'rotated.jpg'));
  assert.deepEqual([rotated.width, rotated.height], [24, 40]);
});

test('bytes decode like files: Buffer and Uint8Array; errors name "image bytes" or the given name', async (t) => {
  if (!needsPil(t)) return;
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  runPython('make-format-samples.py', [dir]);
  const path = join(dir, 'rgba.png');
  const fromFile = await decodeImage(path);
  const buffer = readFileSync(path);
  assert.deepEqual((await decodeImage(buffer)).data, fromFile.data);
  assert.deepEqual((await decodeImage(new Uint8Array(buffer))).data, fromFile.data);
  const before = decodeCount();
  await decodeImage(buffer);
  assert.equal(decodeCount(), before + 1);
  const jpeg = readFileSync(join(dir, 'rgb.jpg'));
  const truncated = jpeg.subarray(0, jpeg.length >> 1);
  await assert.rejects(decodeImage(truncated), (e: unknown) => {
    assert.ok(e instanceof ImageDecodeError);
    assert.equal(e.file, 'image bytes');
    assert.equal(e.failure, 'corrupt');
    assert.match(e.message, /^image bytes: corrupt or truncated JPEG: .+$/);
    return true;
  });
  await assert.rejects(
    decodeImage(jpeg.subarray(0, 300)),
    /^ImageDecodeError: image bytes: corrupt JPEG header: Input buffer has corrupt header: VipsJpeg: premature end of JPEG image; [^\n]+$/,
  );
  await assert.rejects(
    decodeImage(new Uint8Array(0), { name: 'images[3]' }),
    /^ImageDecodeError: images\[3\]: empty file \(0 bytes\)$/,
  );
  await assert.rejects(
    decodeImage(new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"/>')),
    /image bytes: not a PNG, JPEG, WebP, GIF or TIFF image \(it starts with "<svg xml"\)/,
  );
  await assert.rejects(decodeImage(join(dir, 'missing.png')), /missing\.png: cannot read the file \(ENOENT\)/);
  // Refused from the header: not counted as a decode.
  const count = decodeCount();
  await assert.rejects(decodeImage(path, { limitInputPixels: 100 }), (e: unknown) => {
    assert.ok(e instanceof ImageDecodeError);
    assert.equal(e.failure, 'too-large');
    assert.match(
      e.reason,
      /^PNG of 40x24 = 960 pixels is over the limit of 100 \(limitInputPixels\): refused before decoding/,
    );
    return true;
  });
  assert.equal(decodeCount(), count);
});

test('without sharp, decoding fails with how to install it, and everything else works in the same process', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  // A loader hook that hides sharp, as on a machine where it is not installed.
  const hooks = join(dir, 'no-sharp-hooks.mjs');
  writeFileSync(
    hooks,
    `export async function resolve(specifier, context, next) {
  if (specifier === 'sharp') { const e = new Error("Cannot find package 'sharp'"); e.code = 'ERR_MODULE_NOT_FOUND'; throw e; }
  return next(specifier, context);
}\n`,
  );
  const register = join(dir, 'register.mjs');
  writeFileSync(register, `import { register } from 'node:module'; register(${JSON.stringify(`file://${hooks}`)});\n`);
  const script = `
import { decodeImage, preprocessImage, scanImageFolder } from ${JSON.stringify(new URL('../src/node/index.ts', import.meta.url).href)};
const out = preprocessImage({ width: 2, height: 2, channels: 1, data: new Uint8Array([0, 100, 200, 255]) },
  { resize: 'stretch', interpolation: 'bilinear', cropFraction: 1, colour: 'grey', background: [0, 0, 0] }, { height: 1, width: 1 });
let message = 'no error';
try { await decodeImage(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])); } catch (e) { message = e.message; }
let again = 'no error';
try { await decodeImage(new Uint8Array([0xff, 0xd8, 0xff, 0xe0])); } catch (e) { again = e.message; }
console.log(JSON.stringify({ pixel: out.data[0], message, again }));
`;
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--import', register, '--input-type=module', '-e', script],
    {
      encoding: 'utf8',
      cwd: new URL('..', import.meta.url).pathname,
    },
  );
  assert.equal(result.status, 0, result.stderr);
  const { pixel, message, again } = JSON.parse(result.stdout) as { pixel: number; message: string; again: string };
  assert.equal(pixel, 139);
  assert.match(
    message,
    /decoding images needs sharp, which could not be loaded \(Cannot find package 'sharp'\); install it with `pnpm add sharp`/,
  );
  assert.equal(again, message, 'a later call tries again and says the same');
});
