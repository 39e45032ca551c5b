// Training on a folder of images (--dataset folder): labels, file list and preprocessing recorded; each image decoded
// once (a later run decodes nothing, a changed file is decoded again); a resumed run, streamed and with every
// augmentation, reproduces the uninterrupted one even when the folder changed in between; bad input stops the run
// naming the file, or is skipped and listed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onednnAvailability } from '@depthfold/backend-onednn';
import { FOLDER_DATASET, type TrainConfigInput } from '@depthfold/core';
import { loadCheckpoint, runPaths } from '@depthfold/core/node';
import { decodeCount, ImageDecodeError, ImageFolderError, readDatasetDescription } from '@depthfold/images/node';
import { type DecodePassReport, runTestSplit, train, type TrainHooks } from '../src/index.js';
import { encodePng, pngBomb } from '@depthfold/testing';
import { classImage, writeClassFolder } from './image-files.js';

const dir = mkdtempSync(join(tmpdir(), 'depthfold-folder-train-'));
const CLASSES = ['circle', 'bar', 'arrow'];
// 3 classes of 12: 2 test and 1 validation image per class, 27 to train on; one decode thread, so that decodes happen
// on this thread, where decodeCount() sees them.
const base = {
  dataset: FOLDER_DATASET,
  inputSize: '12',
  depth: 8,
  batchSize: 8,
  evalBatchSize: 16,
  backend: 'wasm',
  workers: 1,
  seed: 5,
  epochs: 1,
  testSplit: 6,
  validation: 3,
  decodeThreads: 1,
} as const satisfies TrainConfigInput;

function folder(name: string, perClass = 12): string {
  const root = join(dir, name);
  writeClassFolder(root, CLASSES, perClass);
  return root;
}

/** Runs train() and returns its result with the first pass's report. */
async function run(config: TrainConfigInput, hooks: TrainHooks = {}) {
  let report: DecodePassReport | undefined;
  const result = await train(config, { ...hooks, onData: (r) => (report = r) });
  return { ...result, report: report! };
}

async function weights(runDir: string): Promise<Map<string, Float32Array>> {
  const c = await loadCheckpoint(runPaths(runDir).checkpoint);
  return new Map(
    [...c.params, ...[...c.momentum].map(([k, v]) => [`momentum/${k}`, v] as const)].map(([k, v]) => [k, v.data]),
  );
}

test('a folder run records labels, file list and preprocessing; a later run decodes nothing; a changed file is decoded again', {
  timeout: 300_000,
}, async () => {
  const data = folder('cache');
  writeFileSync(join(data, 'circle', 'notes.txt'), 'not a picture');
  const cacheDir = join(dir, 'cache-dir');
  const before = decodeCount();
  const first = await run({ ...base, data, cacheDir, runDir: join(dir, 'cache-1') });
  assert.equal(decodeCount() - before, 36, 'every image decoded once');
  assert.deepEqual(
    [first.report.images, first.report.decoded, first.report.cached, first.report.ignored],
    [36, 36, 0, 1],
  );
  assert.deepEqual(first.report.modes, { train: 'memory', validation: 'memory', test: 'memory' });

  const { info } = await loadCheckpoint(first.checkpointPath);
  assert.deepEqual(info.labels, ['arrow', 'bar', 'circle'], 'the class folders, sorted');
  assert.deepEqual(info.preprocessing, {
    resize: 'shorter-side-crop',
    interpolation: 'bilinear',
    cropFraction: 0.875,
    colour: 'rgb',
    background: [0, 0, 0],
  });
  assert.deepEqual(info.dataset, { name: 'folder:cache', trainExamples: 27, validationExamples: 3 });
  assert.deepEqual(info.architecture.input, { height: 12, width: 12, channels: 3 });
  const description = await readDatasetDescription(runPaths(first.runDir).dataset);
  assert.equal(description.root, data);
  assert.deepEqual(
    ['train', 'validation', 'test'].map((s) => description.files.filter((f) => f.split === s).length),
    [27, 3, 6],
  );
  assert.equal(description.ignored, 1);
  const share = first.metrics[0]!.dataWaitShare ?? Number.NaN;
  assert.ok(share >= 0 && share < 1, `dataWaitShare ${share}`);

  // The test images the model card and export read back are the bytes the run evaluated: 6, from the cache.
  const decodes = decodeCount();
  const test = await runTestSplit(info, first.runDir);
  assert.equal(test.split.count, 6);
  assert.equal(decodeCount(), decodes, 'read from the cache');

  const second = await run({ ...base, data, cacheDir, runDir: join(dir, 'cache-2') });
  assert.equal(decodeCount() - decodes, 0, 'a new run on the same folder decodes nothing');
  assert.deepEqual([second.report.decoded, second.report.cached], [0, 36]);
  assert.deepEqual(await weights(second.runDir), await weights(first.runDir), 'the same pixels, the same run');

  // A file rewritten with other pixels is listed anew (size, mtime) and decoded again from its new bytes.
  const changed = join(data, 'bar', '004.png');
  writeFileSync(changed, encodePng(20, 16, 3, classImage(1, 20, 16, 99)));
  const third = await run({ ...base, data, cacheDir, runDir: join(dir, 'cache-3') });
  assert.deepEqual([third.report.decoded, third.report.cached], [1, 35]);
  assert.equal(decodeCount() - decodes, 1);
});

test('a folder run resumes to the uninterrupted weights (streamed, random resized crop, flip, pad-crop, erasing), whatever happened to the folder', {
  timeout: 300_000,
}, async () => {
  const data = folder('resume');
  const cacheDir = join(dir, 'resume-cache');
  const config = {
    ...base,
    data,
    cacheDir,
    epochs: 2,
    channels: 1,
    randomResizedCrop: 0.3,
    randomErasing: 0.5,
    padCrop: 1,
    // Smaller than the training images: every split streams from the cache.
    memoryBudget: 400,
  } as const;
  const straight = await run({ ...config, runDir: join(dir, 'resume-straight') });
  assert.deepEqual(straight.report.modes, { train: 'stream', validation: 'stream', test: 'stream' });
  assert.equal(straight.report.cacheFolders.length, 2, 'training crops come from a larger cached copy');
  const runDir = join(dir, 'resume-resumed');
  await assert.rejects(
    train(
      { ...config, runDir },
      {
        onEpoch(m) {
          if (m.epoch === 1) throw new Error('interrupted');
        },
      },
    ),
    /interrupted/,
  );
  // Between the sessions a listed file is removed, another changed, one added: the run goes on with what it recorded.
  unlinkSync(join(data, 'arrow', '000.png'));
  writeFileSync(join(data, 'bar', '001.png'), encodePng(20, 16, 3, classImage(2, 20, 16, 50)));
  writeFileSync(join(data, 'circle', '999.png'), encodePng(20, 16, 3, classImage(0, 20, 16, 51)));
  const resumed = await run({ runDir, resume: true });
  assert.equal(resumed.report.decoded, 0);
  assert.deepEqual(
    resumed.metrics.map((m) => m.epoch),
    [1, 2],
  );
  assert.equal(resumed.metrics[1]!.trainLoss, straight.metrics[1]!.trainLoss);
  assert.deepEqual(await weights(runDir), await weights(straight.runDir));

  // Without its cache entries, the changed and the removed file cannot give the pixels the run started with: the run
  // stops naming the first met, or with --skip-bad-images goes on without them and lists them.
  rmSync(cacheDir, { recursive: true });
  const reasons: Record<string, RegExp> = {
    'arrow/000.png': /: cannot read the file \(ENOENT\)$/,
    'bar/001.png':
      /: changed since it was listed \(size \d+ -> \d+ bytes, .*\) and not in the cache: list the folder again$/,
  };
  await assert.rejects(run({ runDir, resume: true, epochs: 3 }), (e: unknown) => {
    assert.ok(e instanceof ImageDecodeError, String(e));
    const path = Object.keys(reasons).find((p) => e.file === join(data, p));
    assert.ok(path, e.file);
    assert.match(e.message, reasons[path]!);
    return true;
  });
  const skipping = await run({ runDir, resume: true, epochs: 3, skipBadImages: true });
  assert.deepEqual(skipping.report.skipped.map((b) => b.path).sort(), Object.keys(reasons));
  assert.equal(readFileSync(runPaths(runDir).skippedImages, 'utf8').trim().split('\n').length, 2);
});

test('bad images stop the run naming the file, or are skipped and listed with --skip-bad-images', {
  timeout: 300_000,
}, async () => {
  const data = folder('bad');
  const good = readFileSync(join(data, 'bar', '000.png'));
  const bad: Record<string, RegExp> = {
    'arrow/truncated.png': /: corrupt or truncated PNG: /,
    'bar/zero.png': /: empty file \(0 bytes\)$/,
    'bar/text.jpg': /: not a PNG, JPEG, WebP, GIF or TIFF image \(it starts with "this is "\)$/,
    'circle/bomb.png': /: PNG of 30000x30000 = 900000000 pixels is over the limit of 100000000 .*decompression bomb$/,
  };
  writeFileSync(join(data, 'arrow', 'truncated.png'), good.subarray(0, good.length - 30));
  writeFileSync(join(data, 'bar', 'zero.png'), new Uint8Array(0));
  writeFileSync(join(data, 'bar', 'text.jpg'), 'this is not a picture\n');
  writeFileSync(join(data, 'circle', 'bomb.png'), pngBomb(30000, 30000));
  const config = { ...base, data, cacheDir: join(dir, 'bad-cache'), testSplit: 0.2 } as const;
  await assert.rejects(train({ ...config, runDir: join(dir, 'bad-stop') }), (e: unknown) => {
    assert.ok(e instanceof ImageDecodeError, String(e));
    const path = Object.keys(bad).find((p) => e.file === join(data, p));
    assert.ok(path, e.file);
    assert.match(e.message, bad[path]!);
    assert.doesNotMatch(e.message, /\n/);
    return true;
  });
  assert.ok(!existsSync(runPaths(join(dir, 'bad-stop')).checkpoint), 'nothing trained on a stopped run');

  const runDir = join(dir, 'bad-skip');
  const skipped = await run({ ...config, runDir, skipBadImages: true });
  assert.deepEqual(skipped.report.skipped.map((b) => b.path).sort(), Object.keys(bad).sort());
  const listed = readFileSync(runPaths(runDir).skippedImages, 'utf8').trim().split('\n');
  assert.equal(listed.length, 4);
  for (const lineText of listed) {
    const path = lineText.slice(0, lineText.indexOf(':'));
    assert.match(`${join(data, path)}${lineText.slice(path.length)}`, bad[path]!, lineText);
  }
  const description = await readDatasetDescription(runPaths(runDir).dataset);
  assert.equal(description.files.length, 36, 'the recorded list is what the run used: the 40 listed less 4 skipped');
});

test('folder problems are named: symbolic link loop, empty class, one class, a class too small for the split, misused options', {
  timeout: 120_000,
}, async () => {
  const cacheDir = join(dir, 'problems-cache');
  const attempt = (data: string, extra: TrainConfigInput = {}) =>
    train({ ...base, data, cacheDir, runDir: join(dir, `problem-${Math.random()}`), ...extra });

  const loop = folder('loop', 4);
  symlinkSync('..', join(loop, 'bar', 'back'));
  await assert.rejects(
    attempt(loop),
    new ImageFolderError(join(loop, 'bar', 'back'), `symbolic link loop: it leads back to ${loop}, a folder above it`),
  );

  const empty = folder('empty', 4);
  mkdirSync(join(empty, 'dot'));
  await assert.rejects(
    attempt(empty),
    (e: unknown) => e instanceof ImageFolderError && /dot: empty class folder/.test(e.message),
  );

  const one = join(dir, 'one');
  writeClassFolder(one, ['only'], 4);
  await assert.rejects(attempt(one), /one class folder \(only\): a classifier needs at least two/);

  const small = folder('small', 4);
  for (const n of ['002', '003']) unlinkSync(join(small, 'arrow', `${n}.png`));
  await assert.rejects(
    attempt(small, { testSplit: 3 }),
    /class "arrow" has 2 images; the split needs at least 3 \(1 for training, 1 for validation, 1 for test\)/,
  );

  const splits = join(dir, 'splits');
  writeClassFolder(join(splits, 'train'), CLASSES, 4);
  writeClassFolder(join(splits, 'test'), CLASSES, 1);
  await assert.rejects(attempt(splits), /testSplit: expected no --test-split for a folder with test\/ /);
  await assert.rejects(
    attempt(folder('normalisation', 4), { mean: '0.5', testSplit: 3, batchSize: 4 }),
    /mean: expected 3 numbers in \[0, 1\], one per channel, received "0\.5"/,
  );
  await assert.rejects(
    train({ dataset: 'fashion-mnist', randomResizedCrop: 0.08, runDir: join(dir, 'builtin') }),
    /randomResizedCrop: expected no --random-resized-crop \(it is for --dataset folder\)/,
  );
  await assert.rejects(
    train({ dataset: FOLDER_DATASET, runDir: join(dir, 'nodata') }),
    /data: expected the folder of images/,
  );
});

test('an evaluation batch of one image evaluates, on every backend and on a pool of workers', {
  timeout: 120_000,
}, async () => {
  const data = folder('one-image', 6);
  const cacheDir = join(dir, 'one-image-cache');
  // 6 test images listed, 1 kept: the only evaluation batch holds one image.
  const one = { ...base, data, cacheDir, testSplit: 6, testLimit: 1, validation: 0 } as const;
  for (const backend of onednnAvailability().available ? (['onednn', 'wasm'] as const) : (['wasm'] as const))
    for (const workers of [1, 2]) {
      const r = await run({ ...one, backend, workers, runDir: join(dir, `one-image-${backend}-${workers}`) });
      assert.equal(r.metrics[0]!.testExamples, 1, `${backend}, ${workers} workers`);
      assert.ok(Number.isFinite(r.metrics[0]!.testLoss), `${backend}, ${workers} workers`);
    }
});
