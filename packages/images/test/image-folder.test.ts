// Folders as datasets: the two layouts, sorted class labels, files by extension, what is ignored and counted, the
// problems that stop a scan (empty class, one class, symlink loops...), the seeded split and the recorded file list.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  ImageFolderError,
  datasetChanges,
  filesOf,
  readDatasetDescription,
  scanImageFolder,
  splitImageFolder,
  writeDatasetDescription,
  type ImageFolderScan,
} from '../src/node/index.js';
import { tempDir } from './helpers.js';

/** Writes files (any bytes: a scan never reads them) and returns the root. */
function tree(root: string, paths: string[]): string {
  for (const path of paths) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    if (!path.endsWith('/')) writeFileSync(join(root, path), path);
  }
  return root;
}

const many = (folder: string, n: number, ext = 'png') =>
  Array.from({ length: n }, (_, i) => `${folder}/${String(i).padStart(3, '0')}.${ext}`);

async function scanError(dir: string): Promise<ImageFolderError> {
  try {
    await scanImageFolder(dir);
  } catch (error) {
    assert.ok(error instanceof ImageFolderError, String(error));
    assert.doesNotMatch(error.message, /\n/);
    return error;
  }
  return assert.fail('the scan succeeded');
}

test('DIR/<class>: labels are the sorted class names; files by extension, case-insensitive, recursively', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  tree(dir, [
    'zebra/1.png',
    'ant/b.JPG',
    'ant/a.jpeg',
    'ant/sub/c.WebP',
    'ant/d.tiff',
    'ant/e.tif',
    'ant/f.gif',
    'ant/notes.txt',
    'ant/.DS_Store',
    'ant/._g.jpg',
    'readme.md',
    'Bee/x.png',
  ]);
  const scan = await scanImageFolder(dir);
  assert.equal(scan.layout, 'classes');
  assert.deepEqual(scan.classes, ['Bee', 'ant', 'zebra']);
  assert.deepEqual(
    scan.folders.train.map((f) => [f.path, f.label]),
    [
      ['Bee/x.png', 0],
      ['ant/a.jpeg', 1],
      ['ant/b.JPG', 1],
      ['ant/d.tiff', 1],
      ['ant/e.tif', 1],
      ['ant/f.gif', 1],
      ['ant/sub/c.WebP', 1],
      ['zebra/1.png', 2],
    ],
  );
  assert.equal(scan.folders.val, undefined);
  assert.deepEqual(
    scan.ignored.map((f) => f.path),
    ['ant/.DS_Store', 'ant/._g.jpg', 'ant/notes.txt', 'readme.md'],
  );
  assert.match(scan.ignored.find((f) => f.path === 'ant/notes.txt')!.reason, /not an image by its extension/);
  assert.match(scan.ignored.find((f) => f.path === 'readme.md')!.reason, /not in a class folder/);
  const file = scan.folders.train[0]!;
  assert.equal(file.size, 'Bee/x.png'.length);
  assert.ok(file.mtimeMs > 0);
});

test('DIR/{train,val,test}/<class>: labels from train/; val/ and test/ optional', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  tree(dir, [...many('train/cat', 3), ...many('train/dog', 2), ...many('val/dog', 1)]);
  const scan = await scanImageFolder(dir);
  assert.equal(scan.layout, 'splits');
  assert.deepEqual(scan.classes, ['cat', 'dog']);
  assert.deepEqual(
    scan.folders.train.map((f) => f.label),
    [0, 0, 0, 1, 1],
  );
  assert.deepEqual(
    scan.folders.val!.map((f) => [f.path, f.label]),
    [['val/dog/000.png', 1]],
  );
  assert.equal(scan.folders.test, undefined);
  tree(dir, ['test/bird/0.png']);
  assert.match((await scanError(dir)).message, /test\/bird: class folder not in train\/ \(its classes: cat, dog\)$/);
});

test('a scan stops naming the problem: empty class, fewer than two classes, mixed layouts, no folder', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const at = (name: string, paths: string[]) => tree(join(dir, name), paths);
  let e = await scanError(at('empty', ['cat/1.png', 'dog/notes.txt']));
  assert.equal(e.path, join(dir, 'empty', 'dog'));
  assert.match(e.message, /dog: empty class folder: no \.png \.jpg \.jpeg \.webp \.gif \.tif \.tiff file in it$/);
  e = await scanError(at('one', ['cat/1.png']));
  assert.match(e.message, /one: one class folder \(cat\): a classifier needs at least two, as DIR\/<class>\/\*$/);
  e = await scanError(at('none', ['1.png']));
  assert.match(e.message, /none: no class folders: a classifier needs at least two/);
  e = await scanError(at('mixed', ['train/cat/1.png', 'train/dog/1.png', 'bird/1.png']));
  assert.match(
    e.message,
    /mixed: has train\/ beside other folders \(bird\): expected either DIR\/<class>\/\* or DIR\/\{train,val,test\}\/<class>\/\*$/,
  );
  e = await scanError(at('valonly', ['val/cat/1.png', 'val/dog/1.png']));
  assert.match(e.message, /has val\/ but no train\//);
  e = await scanError(join(dir, 'missing'));
  assert.match(e.message, /missing: no such folder$/);
});

test('symbolic links are followed; loops and folders reached twice stop the scan naming the link', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const root = tree(join(dir, 'ok'), ['cat/1.png', 'dog/1.png']);
  tree(dir, ['outside/bird/1.png', 'outside/bird/2.png']);
  symlinkSync(join(dir, 'outside', 'bird'), join(root, 'bird'));
  symlinkSync(join(dir, 'nothing'), join(root, 'cat', 'broken.png'));
  const scan = await scanImageFolder(root);
  assert.deepEqual(scan.classes, ['bird', 'cat', 'dog']);
  assert.deepEqual(
    scan.folders.train.filter((f) => f.label === 0).map((f) => f.path),
    ['bird/1.png', 'bird/2.png'],
  );
  assert.deepEqual(scan.ignored, [{ path: 'cat/broken.png', reason: 'broken symbolic link' }]);

  const loop = tree(join(dir, 'loop'), ['cat/1.png', 'dog/1.png']);
  symlinkSync('..', join(loop, 'cat', 'up'));
  let e = await scanError(loop);
  assert.equal(e.path, join(loop, 'cat', 'up'));
  assert.match(e.reason, new RegExp(`^symbolic link loop: it leads back to ${loop}, a folder above it$`));

  const self = tree(join(dir, 'self'), ['cat/1.png', 'dog/1.png']);
  symlinkSync(join(self, 'dog', 'me'), join(self, 'dog', 'me'));
  e = await scanError(self);
  assert.match(e.message, /dog\/me: symbolic link loop \(ELOOP\)/);

  const twice = tree(join(dir, 'twice'), ['cat/1.png', 'dog/1.png']);
  symlinkSync(join(twice, 'cat'), join(twice, 'dog', 'cats'));
  e = await scanError(twice);
  assert.match(
    e.message,
    /dog\/cats: the same folder as .*twice\/cat \(a symbolic link\): its images would count twice$/,
  );
});

function scanOf(sizes: Record<string, number>): ImageFolderScan {
  const classes = Object.keys(sizes).sort();
  const train = classes.flatMap((c, label) =>
    Array.from({ length: sizes[c]! }, (_, i) => ({ path: `${c}/${i}.png`, label, size: 10, mtimeMs: 1 })),
  );
  return { root: '/data', layout: 'classes', classes, folders: { train }, ignored: [] };
}

const splitCounts = (files: { label: number; split: string }[], classes: number) =>
  Array.from({ length: classes }, (_, label) =>
    ['train', 'validation', 'test'].map((s) => files.filter((f) => f.label === label && f.split === s).length),
  );

test('a stratified split gives each class its share, at least one per split, the same for the same seed', () => {
  const scan = scanOf({ a: 10, b: 5 });
  const d = splitImageFolder(scan, { seed: 1, validation: 0.2, test: 2 });
  // validation round(15 * 0.2) = 3 shared 2 : 1; test 2 shared 1.33 : 0.67 -> 1 : 1 (largest remainder).
  assert.deepEqual(splitCounts(d.files, 2), [
    [7, 2, 1],
    [3, 1, 1],
  ]);
  assert.deepEqual(splitImageFolder(scan, { seed: 1, validation: 0.2, test: 2 }), d);
  const other = splitImageFolder(scan, { seed: 2, validation: 0.2, test: 2 });
  assert.notDeepEqual(
    filesOf(other, 'validation').map((f) => f.path),
    filesOf(d, 'validation').map((f) => f.path),
  );
  // A tiny class still gets one validation image.
  assert.deepEqual(splitCounts(splitImageFolder(scanOf({ a: 100, b: 3 }), { seed: 1, validation: 0.05 }).files, 2), [
    [95, 5, 0],
    [2, 1, 0],
  ]);
  // A class with too few images for the split stops it, naming the class.
  assert.throws(
    () => splitImageFolder(scanOf({ a: 10, b: 2 }), { seed: 1, validation: 1, test: 1 }),
    (e: unknown) =>
      e instanceof ImageFolderError &&
      e.path === '/data/b' &&
      /class "b" has 2 images; the split needs at least 3 \(1 for training, 1 for validation, 1 for test\)$/.test(
        e.message,
      ),
  );
  assert.throws(
    () => splitImageFolder(scan, { seed: 1, validation: 1.5 }),
    /validation: expected a count \(an integer >= 1\) or a fraction in \(0, 1\), received 1\.5/,
  );
  assert.throws(
    () => splitImageFolder(scan, { seed: 1, validation: 10, test: 5 }),
    /15 images cannot give 10 for validation and 5 for test/,
  );
});

test('adding a file moves no other file between splits while the counts stay', () => {
  const before = splitImageFolder(scanOf({ a: 5, b: 5 }), { seed: 3, validation: 2 });
  const after = splitImageFolder(scanOf({ a: 6, b: 5 }), { seed: 3, validation: 2 });
  const held = (d: typeof before) => filesOf(d, 'validation').map((f) => f.path);
  assert.equal(held(after).length, 2);
  for (const path of held(after)) assert.ok(held(before).includes(path) || path === 'a/5.png', path);
});

test('an unstratified split holds out the first of the whole pool in seeded order', () => {
  const scan = scanOf({ a: 20, b: 20, c: 20 });
  const d = splitImageFolder(scan, { seed: 4, validation: 12, stratified: false });
  assert.equal(filesOf(d, 'validation').length, 12);
  assert.deepEqual(splitImageFolder(scan, { seed: 4, validation: 12, stratified: false }), d);
  assert.notDeepEqual(splitImageFolder(scan, { seed: 5, validation: 12, stratified: false }), d);
  // Three of four held out: one class keeps no training image.
  assert.throws(
    () => splitImageFolder(scanOf({ a: 2, b: 2 }), { seed: 0, validation: 3, stratified: false }),
    /class "[ab]" has 2 images, all held out by the unstratified split: none left for training$/,
  );
});

test('folders of the splits layout are kept; the options split train/ for the missing ones', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  tree(dir, [...many('train/cat', 6), ...many('train/dog', 6), ...many('val/cat', 2), ...many('val/dog', 1)]);
  const d = splitImageFolder(await scanImageFolder(dir), { seed: 0, validation: 0.5, test: 2 });
  assert.deepEqual(
    filesOf(d, 'validation').map((f) => f.path),
    ['val/cat/000.png', 'val/cat/001.png', 'val/dog/000.png'],
  );
  assert.deepEqual(splitCounts(d.files, 2), [
    [5, 2, 1],
    [5, 1, 1],
  ]);
});

test('the recorded file list round-trips, and says which files changed or went', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const root = tree(join(dir, 'data'), [...many('cat', 3), ...many('dog', 3)]);
  const d = splitImageFolder(await scanImageFolder(root), { seed: 0, validation: 1 });
  const path = join(dir, 'run', 'dataset.json');
  await writeDatasetDescription(path, d);
  assert.deepEqual(await readDatasetDescription(path), d);
  assert.deepEqual(await datasetChanges(d), { changed: [], missing: [] });
  utimesSync(join(root, 'cat/001.png'), new Date(), new Date(Date.now() + 5000));
  rmSync(join(root, 'dog/002.png'));
  assert.deepEqual(await datasetChanges(d), { changed: ['cat/001.png'], missing: ['dog/002.png'] });
  writeFileSync(path, JSON.stringify({ ...d, classes: ['only'] }));
  await assert.rejects(
    readDatasetDescription(path),
    /dataset\.json: classes: expected >= 2 items, received \["only"\]/,
  );
});
