// A folder of hostile files: a truncated JPEG, a zero-byte PNG, a 30000x30000 PNG bomb, a text file named .jpg;
// beside them a symbolic link loop and an empty class. Each stops the run with its one-line error, or, with
// skipBadImages, is skipped and listed with its reason. The bomb is refused from its header, before decoding.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Preprocessing } from '@depthfold/core';
import {
  DEFAULT_LIMIT_INPUT_PIXELS,
  DecodeCache,
  ImageDecodeError,
  ImageFolderError,
  scanImageFolder,
  splitImageFolder,
  type ImageFile,
} from '../src/node/index.js';
import { pngBomb } from '@depthfold/testing';
import { tempDir } from './helpers.js';

const preprocessing: Preprocessing = {
  resize: 'stretch',
  interpolation: 'bilinear',
  cropFraction: 1,
  colour: 'grey',
  background: [0, 0, 0],
};
const size = { height: 16, width: 16 };

async function hostileFolder(root: string): Promise<void> {
  const good = (seed: number) =>
    sharp({ create: { width: 20, height: 12, channels: 3, background: { r: seed * 40, g: 100, b: 200 - seed * 30 } } });
  for (const cls of ['cat', 'dog']) mkdirSync(join(root, cls), { recursive: true });
  for (let i = 0; i < 3; i++) {
    await good(i)
      .png()
      .toFile(join(root, 'cat', `good${i}.png`));
    await good(i + 3)
      .jpeg()
      .toFile(join(root, 'dog', `good${i}.jpg`));
  }
  // Noise, so that most of the file is scan data and half of it ends inside the pixels, not the header.
  const noise = Uint8Array.from({ length: 200 * 120 * 3 }, (_, i) => (i * 2654435761) >>> 24);
  const jpeg = await sharp(noise, { raw: { width: 200, height: 120, channels: 3 } })
    .jpeg()
    .toBuffer();
  writeFileSync(join(root, 'cat', 'truncated.jpg'), jpeg.subarray(0, jpeg.length >> 1));
  writeFileSync(join(root, 'cat', 'zero.png'), new Uint8Array(0));
  writeFileSync(join(root, 'dog', 'bomb.png'), pngBomb(30000, 30000));
  writeFileSync(join(root, 'dog', 'text.jpg'), 'this is not a picture\n');
}

const REASONS: Record<string, RegExp> = {
  'cat/truncated.jpg': /^corrupt or truncated JPEG: VipsJpeg: premature end of JPEG image$/,
  'cat/zero.png': /^empty file \(0 bytes\)$/,
  'dog/bomb.png':
    /^PNG of 30000x30000 = 900000000 pixels is over the limit of 100000000 \(limitInputPixels\): refused before decoding, as a possible decompression bomb$/,
  'dog/text.jpg': /^not a PNG, JPEG, WebP, GIF or TIFF image \(it starts with "this is "\)$/,
};

test('hostile images: each stops the fill with one line naming it, or is skipped and listed', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const root = join(dir, 'hostile');
  await hostileFolder(root);
  const description = splitImageFolder(await scanImageFolder(root), { seed: 0 });
  assert.equal(description.files.length, 10);
  assert.equal(DEFAULT_LIMIT_INPUT_PIXELS, 100_000_000);
  const cache = await DecodeCache.open({ dir: join(dir, 'cache'), preprocessing, size });
  const fileOf = (path: string): ImageFile => description.files.find((f) => f.path === path)!;
  // Each alone: its own one-line error.
  for (const [path, reason] of Object.entries(REASONS)) {
    await assert.rejects(cache.fill({ root, files: [fileOf(path)] }, { threads: 1 }), (e: unknown) => {
      assert.ok(e instanceof ImageDecodeError, String(e));
      assert.equal(e.file, join(root, path));
      assert.match(e.reason, reason);
      assert.equal(e.message, `${join(root, path)}: ${e.reason}`);
      assert.doesNotMatch(e.message, /\n/);
      return true;
    });
  }
  // All together, on worker threads: the first bad one met stops the run.
  await assert.rejects(cache.fill(description, { threads: 2 }), (e: unknown) => {
    assert.ok(e instanceof ImageDecodeError);
    assert.ok(
      Object.keys(REASONS).some((p) => e.file === join(root, p)),
      e.file,
    );
    return true;
  });
  // Skipping: listed in order with their reasons; the good ones are cached.
  const started = performance.now();
  const report = await cache.fill(description, { threads: 2, skipBadImages: true });
  const seconds = (performance.now() - started) / 1000;
  assert.deepEqual(
    report.bad.map((b) => b.path),
    Object.keys(REASONS),
  );
  for (const b of report.bad) assert.match(b.reason, REASONS[b.path]!, b.path);
  assert.deepEqual(
    report.bad.map((b) => b.failure),
    ['corrupt', 'empty', 'too-large', 'unsupported'],
  );
  assert.equal(report.files.length, 6);
  assert.ok(report.files.every((f) => f.path.includes('good')));
  assert.ok(seconds < 10, `the bomb was not decoded: ${seconds.toFixed(1)} s`);
  // Bad bytes are remembered in the cache; the bomb (refused under a limit that may change) is looked at again.
  const again = await cache.fill(description, { threads: 1, skipBadImages: true });
  assert.equal(again.decoded, 1);
  assert.deepEqual(again.bad, report.bad);
  await assert.rejects(cache.fill(description, { threads: 1 }), /cat\/truncated\.jpg: corrupt or truncated JPEG/);
  // The limit is the caller's: a lower one refuses smaller images from their header.
  const strict = await DecodeCache.open({ dir: join(dir, 'strict'), preprocessing, size, limitInputPixels: 100 });
  await assert.rejects(
    strict.fill({ root, files: [fileOf('cat/good0.png')] }, { threads: 1 }),
    /good0\.png: PNG of 20x12 = 240 pixels is over the limit of 100/,
  );
});

test('a symbolic link loop and an empty class stop the scan with one line each', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const loop = join(dir, 'loop');
  await hostileFolder(loop);
  symlinkSync('..', join(loop, 'cat', 'back'));
  await assert.rejects(scanImageFolder(loop), (e: unknown) => {
    assert.ok(e instanceof ImageFolderError);
    assert.equal(
      e.message,
      `${join(loop, 'cat', 'back')}: symbolic link loop: it leads back to ${loop}, a folder above it`,
    );
    return true;
  });
  const empty = join(dir, 'empty');
  await hostileFolder(empty);
  mkdirSync(join(empty, 'bird'));
  writeFileSync(join(empty, 'bird', 'notes.txt'), 'no pictures yet');
  await assert.rejects(
    scanImageFolder(empty),
    new ImageFolderError(
      join(empty, 'bird'),
      'empty class folder: no .png .jpg .jpeg .webp .gif .tif .tiff file in it',
    ),
  );
});
