// Real data end to end: part of Fashion-MNIST written out as a user's folder (PNG and JPEG, 64x64, RGB, grey and
// RGBA) by make-fashion-folder.py, then scanned, split, decoded (checked against PIL's decode), cached (a second
// pass decodes nothing, a touched file decodes again, a torn entry is decoded again) and loaded in memory or
// streamed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Preprocessing } from '@depthfold/core';
import {
  DecodeCache,
  ImageDecodeError,
  ImageLoader,
  decodeCount,
  decodeImage,
  filesOf,
  preprocessImage,
  scanImageFolder,
  splitImageFolder,
  type DecodeProgress,
  type RawImage,
} from '../src/node/index.js';
import { decodeEntry } from '../src/node/cache-entry.js';
import { difference, needsPil, pil, runPython, tempDir } from './helpers.js';

const PER_CLASS = 10;
const CLASSES = ['Dress', 'Pullover', 'T-shirt_top', 'Trouser'];
const preprocessing: Preprocessing = {
  resize: 'shorter-side-crop',
  interpolation: 'bilinear',
  cropFraction: 0.875,
  colour: 'rgb',
  background: [255, 255, 255],
};
const size = { height: 48, width: 48 };

test('a Fashion-MNIST folder: scan, split, decode as PIL does, cache once, load', async (t) => {
  if (!needsPil(t)) return;
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const root = join(dir, 'fashion');
  const manifest = JSON.parse(runPython('make-fashion-folder.py', [root, '--per-class', String(PER_CLASS)])) as {
    path: string;
    class: string;
    variant: string;
  }[];

  // Scan: sorted class names, every file with its class's label.
  const scan = await scanImageFolder(root);
  assert.deepEqual(scan.classes, CLASSES);
  assert.equal(scan.folders.train.length, CLASSES.length * PER_CLASS);
  assert.equal(scan.ignored.length, 0);
  for (const m of manifest)
    assert.equal(scan.folders.train.find((f) => f.path === m.path)!.label, CLASSES.indexOf(m.class), m.path);

  // Split: stratified, seeded.
  const description = splitImageFolder(scan, { seed: 7, validation: 0.2, test: 0.1 });
  assert.deepEqual(
    ['train', 'validation', 'test'].map((s) => description.files.filter((f) => f.split === s).length),
    [28, 8, 4],
  );
  assert.deepEqual(splitImageFolder(scan, { seed: 7, validation: 0.2, test: 0.1 }), description);

  // Decoding: PNG exactly PIL's, JPEG within 2 levels.
  const refs = pil(manifest.map((m) => ({ op: 'decode' as const, file: join(root, m.path) })));
  let worstJpeg = 0;
  for (const [i, m] of manifest.entries()) {
    const ours = await decodeImage(join(root, m.path));
    const ref = refs[i]!;
    assert.deepEqual([ours.width, ours.height, ours.channels], [ref.width, ref.height, ref.channels], m.path);
    const { max } = difference(ours.data, ref.pixels);
    if (m.variant.startsWith('png')) assert.equal(max, 0, `${m.path}: ${max}`);
    else worstJpeg = Math.max(worstJpeg, max);
  }
  console.log(`Fashion-MNIST folder: ${manifest.length} files; JPEG largest difference from PIL ${worstJpeg} level(s)`);
  assert.ok(worstJpeg <= 2);

  // First pass: every file decoded on 2 worker threads, progress reported.
  const cacheDir = join(dir, 'cache');
  const cache = await DecodeCache.open({ dir: cacheDir, preprocessing, size });
  const progress: DecodeProgress[] = [];
  const train = { root: description.root, files: filesOf(description, 'train') };
  const all = { root: description.root, files: description.files };
  const first = await cache.fill(all, { threads: 2, onProgress: (p) => progress.push(p) });
  assert.equal(first.decoded, 40);
  assert.equal(first.cached, 0);
  assert.deepEqual(first.bad, []);
  assert.equal(first.files.length, 40);
  assert.deepEqual(progress.at(-1)!, { ...progress.at(-1)!, done: 40, total: 40, decoded: 40, cached: 0, bad: 0 });
  assert.equal(progress[0]!.done, 0);
  assert.ok(first.imagesPerSecond > 0);
  console.log(
    `first pass: ${first.decoded} images decoded in ${first.decodeSeconds.toFixed(2)} s, ${first.imagesPerSecond.toFixed(0)} images/s on 2 threads`,
  );

  // The workers' bytes are this thread's preprocessing of the same decode.
  for (const f of description.files.slice(0, 12)) {
    const expected = preprocessImage((await decodeImage(join(root, f.path))) as RawImage, preprocessing, size);
    assert.deepEqual(await cache.read(root, f), expected.data, f.path);
  }

  // Second pass, a new cache object as a new run would open: nothing decoded.
  const again = await DecodeCache.open({ dir: cacheDir, preprocessing, size });
  const before = decodeCount();
  const second = await again.fill(all, { threads: 1 });
  assert.equal(second.decoded, 0);
  assert.equal(second.cached, 40);
  assert.equal(decodeCount(), before);

  // Another preprocessing is another folder of entries.
  const grey = await DecodeCache.open({ dir: cacheDir, preprocessing: { ...preprocessing, colour: 'grey' }, size });
  assert.notEqual(grey.folder, cache.folder);
  assert.equal((await grey.fill(train, { threads: 1 })).decoded, 28);

  // Loading: held in memory within the budget, streamed beyond it; the same batches either way.
  const held = await ImageLoader.open(cache, train, { memoryBudgetBytes: 1 << 20 });
  const streamed = await ImageLoader.open(cache, train, { memoryBudgetBytes: 1000, prefetchBatches: 2 });
  assert.equal(held.mode, 'memory');
  assert.equal(streamed.mode, 'stream');
  const order = Array.from({ length: train.files.length }, (_, i) => (i * 11) % train.files.length);
  const batchesOf = async (loader: ImageLoader) => {
    const out = [];
    for await (const b of loader.batches(order, 8)) out.push(b);
    return out;
  };
  const a = await batchesOf(held);
  const b = await batchesOf(streamed);
  assert.deepEqual(
    a.map((x) => x.count),
    [8, 8, 8, 4],
  );
  assert.deepEqual(a, b);
  assert.deepEqual(
    [...a[0]!.labels],
    order.slice(0, 8).map((i) => train.files[i]!.label),
  );
  assert.deepEqual(a[1]!.pixels.subarray(0, 48 * 48 * 3), await cache.read(root, train.files[order[8]!]!));
  assert.equal(streamed.waitStats().batches, 4);
  console.log(
    `loader wait: memory ${held.waitStats().waitMs.toFixed(2)} ms, streaming ${streamed.waitStats().waitMs.toFixed(2)} ms over 4 batches`,
  );
  streamed.resetWaitStats();
  assert.deepEqual(streamed.waitStats(), { batches: 0, waitMs: 0 });

  // A touched file is listed with a new mtime and decoded again; the recorded list still reads its old entry.
  const touched = description.files[3]!;
  utimesSync(join(root, touched.path), new Date(), new Date(touched.mtimeMs + 10_000));
  const rescanned = splitImageFolder(await scanImageFolder(root), { seed: 7, validation: 0.2, test: 0.1 });
  const beforeTouched = decodeCount();
  const third = await again.fill({ root, files: rescanned.files }, { threads: 1 });
  assert.equal(third.decoded, 1);
  assert.equal(decodeCount(), beforeTouched + 1);
  assert.equal((await again.fill(all, { threads: 1 })).decoded, 0, 'the recorded list reads the entries it made');

  // A listed file that changed and whose entry is gone cannot be decoded as listed: it is named, or skipped.
  rmSync(again.entryPath(root, touched));
  await assert.rejects(again.fill(all, { threads: 1 }), (e: unknown) => {
    assert.ok(e instanceof ImageDecodeError);
    assert.equal(e.file, join(root, touched.path));
    assert.equal(e.failure, 'changed');
    assert.match(
      e.message,
      /: changed since it was listed \(size \d+ -> \d+ bytes, mtime .+ -> .+\) and not in the cache: list the folder again$/,
    );
    return true;
  });
  const skipped = await again.fill(all, { threads: 1, skipBadImages: true });
  assert.deepEqual(
    skipped.bad.map((b) => b.path),
    [touched.path],
  );
  assert.equal(skipped.files.length, 39);

  // A torn entry (a crash between write and rename cannot make one; a disk can) and a leftover temp file: the torn
  // entry is decoded again, the temp file is never read.
  const victim = description.files[5]!;
  const entry = again.entryPath(root, victim);
  truncateSync(entry, 100);
  writeFileSync(`${entry}.tmp-1-abc`, 'half an entry');
  const fourth = await again.fill({ root, files: [victim] }, { threads: 1 });
  assert.equal(fourth.decoded, 1);
  assert.equal((await again.read(root, victim)).length, 48 * 48 * 3);

  assert.ok(readdirSync(cacheDir).length >= 2);
});

test('a process killed in the middle of the first pass leaves whole entries only; the next pass decodes the rest', async (t) => {
  if (!needsPil(t)) return;
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const root = join(dir, 'fashion');
  runPython('make-fashion-folder.py', [root, '--per-class', '8']);
  const cacheDir = join(dir, 'cache');
  // The child kills itself (SIGKILL: no cleanup runs) once 10 images are in, with more being decoded and written.
  const script = `
import { DecodeCache, scanImageFolder, splitImageFolder } from ${JSON.stringify(new URL('../src/node/index.ts', import.meta.url).href)};
const d = splitImageFolder(await scanImageFolder(${JSON.stringify(root)}), { seed: 0 });
const cache = await DecodeCache.open({ dir: ${JSON.stringify(cacheDir)}, preprocessing: ${JSON.stringify(preprocessing)}, size: ${JSON.stringify(size)} });
await cache.fill(d, { threads: 1, onProgress: (p) => { if (p.decoded >= 10) process.kill(process.pid, 'SIGKILL'); } });
`;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
  });
  assert.equal(child.signal, 'SIGKILL', child.stderr);
  const cache = await DecodeCache.open({ dir: cacheDir, preprocessing, size });
  const entries = readdirSync(cache.folder, { recursive: true, encoding: 'utf8' }).filter((p) => p.endsWith('.dfic'));
  assert.ok(entries.length >= 10 && entries.length < 32, `${entries.length} entries`);
  for (const entry of entries)
    assert.ok(decodeEntry(new Uint8Array(readFileSync(join(cache.folder, entry))), size.height, size.width, 3), entry);
  const description = splitImageFolder(await scanImageFolder(root), { seed: 0 });
  const report = await cache.fill(description, { threads: 1 });
  assert.equal(report.cached, entries.length);
  assert.equal(report.decoded, 32 - entries.length);
});
