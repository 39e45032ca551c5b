// End to end on a folder of images, as a user brings one: part of Fashion-MNIST written by PIL as PNG and JPEG files
// (64x64 RGB, grey and RGBA), trained through `pnpm train --dataset folder` (the CLI), exported (exportModel, which
// `pnpm export` wraps), then classified: each test file decoded (@depthfold/images/node) and preprocessed as the model
// records (preprocessImage), given to @depthfold/infer as raw pixels, and compared with the trained tfjs network. A
// second run decodes nothing; a folder of hostile files stops the CLI with one line each, or is skipped and listed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { topologyOf } from '@depthfold/core';
import { loadCheckpoint, runPaths } from '@depthfold/core/node';
import { decodeImage, filesOf, preprocessImage, readDatasetDescription } from '@depthfold/images/node';
import { load } from '@depthfold/infer';
import { exportModel } from '@depthfold/pipeline';
import { requirement } from '@depthfold/testing';
import { checkpointLogits, fillBatch, runTestSplit, selectBackend } from '@depthfold/train';

const PYTHON = '/usr/bin/python3';
const MAKE_FOLDER = 'packages/images/test/make-fashion-folder.py';
// T-shirt/top, Trouser, Sneaker, Bag: 80 training images each, 20% held out for test and 10% for validation.
const CLASSES = '0,1,7,8';
const PER_CLASS = 80;

const work = mkdtempSync(join(tmpdir(), 'depthfold-e2e-folder-'));
const data = join(work, 'fashion');
const cacheDir = join(work, 'cache');
const runDir = join(work, 'run');
const modelPath = join(work, 'fashion-folder.onnx');

function train(args: string[]): { status: number | null; out: string; stderr: string } {
  const r = spawnSync(process.execPath, ['packages/train/dist/cli/train.js', ...args], {
    encoding: 'utf8',
    timeout: 600_000,
  });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}`, stderr: r.stderr };
}

const hasPil = () => spawnSync(PYTHON, ['-c', 'import PIL'], { stdio: 'ignore' }).status === 0;

function argmax(row: ArrayLike<number>, offset: number, n: number): number {
  let best = 0;
  for (let k = 1; k < n; k++) if (row[offset + k]! > row[offset + best]!) best = k;
  return best;
}

test('a folder of PNG and JPEG files: pnpm train --dataset folder -> export -> @depthfold/infer', {
  timeout: 900_000,
}, async (t) => {
  if (!requirement(t, hasPil(), `no ${PYTHON} with PIL: install Debian's python3-pil`)) return;
  const made = spawnSync(
    PYTHON,
    [MAKE_FOLDER, data, '--per-class', String(PER_CLASS), '--classes', CLASSES, '--source', 'train'],
    {
      encoding: 'utf8',
    },
  );
  assert.equal(made.status, 0, made.stderr);
  const common = ['--dataset', 'folder', '--data', data, '--cache-dir', cacheDir, '--input-size', '32'];
  const net = ['--depth', '8', '--batch-size', '32', '--test-split', '0.2', '--validation', '0.1'];

  await t.test('train ResNet-8 at 32x32 on the folder; the first pass decodes every image once', () => {
    const r = train([...common, ...net, '--name', 'fashion-folder', '--run-dir', runDir, '--epochs', '3']);
    assert.equal(r.status, 0, r.out);
    const images = 4 * PER_CLASS;
    const decoded = new RegExp(
      `data: ${images} images \\(0 other files ignored\\); ${images} decoded in ([\\d.]+) s, (\\d+) images/s on (\\d+) threads, 0 from the cache`,
    ).exec(r.out);
    assert.ok(decoded, r.out);
    t.diagnostic(
      `first pass: ${images} images decoded in ${decoded[1]} s, ${decoded[2]} images/s on ${decoded[3]} threads`,
    );
    // With a validation split, each epoch's line shows it beside the test set's figures.
    assert.match(r.out, /^epoch 1: train .* \| validation loss [\d.]+ error [\d.]+% \| test loss/m);
    const waits = [...r.out.matchAll(/^epoch (\d+): .* data wait ([\d.]+)%/gm)].map((m) => [
      Number(m[1]),
      Number(m[2]),
    ]);
    assert.equal(waits.length, 3, r.out);
    t.diagnostic(`data wait share per step: ${waits.map(([e, w]) => `epoch ${e} ${w}%`).join(', ')}`);
    const metrics = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.ok(metrics.every((m) => typeof m.dataWaitShare === 'number' && m.dataWaitShare < 1));
  });

  await t.test('a second run on the same folder decodes nothing', () => {
    const started = performance.now();
    const r = train([...common, ...net, '--name', 'again', '--run-dir', join(work, 'again'), '--epochs', '1']);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /; 0 decoded, 320 from the cache /);
    t.diagnostic(`second run (1 epoch, cached): ${((performance.now() - started) / 1000).toFixed(1)} s in all`);
  });

  await t.test(
    "export records the labels and preprocessing, verified against tfjs on the run's test files",
    async () => {
      const r = await exportModel({ run: runDir, out: modelPath });
      assert.ok(r.parity.relativeDiff < 1e-4, JSON.stringify(r.parity));
      assert.equal(r.parity.top1Agree, r.parity.images);
      assert.match(r.probe, /^64 folder:fashion test images$/);
      const classifier = await load(modelPath, { device: 'cpu' });
      const { metadata } = classifier.info;
      await classifier.dispose();
      assert.deepEqual(metadata.labels, ['Bag', 'Sneaker', 'T-shirt_top', 'Trouser']);
      assert.deepEqual(metadata.input.preprocessing, {
        resize: 'shorter-side-crop',
        interpolation: 'bilinear',
        cropFraction: 0.875,
        colour: 'rgb',
        background: [0, 0, 0],
      });
      assert.equal(metadata.dataset?.name, 'folder:fashion');
    },
  );

  await t.test(
    'the encoded test files, decoded and preprocessed as the model records, classify as the trained network does',
    async () => {
      const checkpoint = await loadCheckpoint(runPaths(runDir).checkpoint);
      const { info } = checkpoint;
      const description = await readDatasetDescription(runPaths(runDir).dataset);
      const files = filesOf(description, 'test');
      assert.equal(files.length, 64);
      const size = { height: 32, width: 32 };
      const bytes = 32 * 32 * 3;
      const pixels = await Promise.all(
        files.map(
          async (f) =>
            preprocessImage(await decodeImage(join(description.root, f.path)), info.preprocessing!, size).data,
        ),
      );
      // The very bytes the run evaluated on (the decode cache's).
      const { split } = await runTestSplit(info, runDir);
      pixels.forEach((p, i) => assert.deepEqual(p, split.images.subarray(i * bytes, (i + 1) * bytes), files[i]!.path));

      const normalised = new Float32Array(files.length * bytes);
      fillBatch(split, Array.from(files.keys()), normalised, info.normalization);
      await selectBackend('wasm');
      const reference = await checkpointLogits(
        topologyOf(info.architecture),
        checkpoint.params,
        info.schedule.survivalProbs,
        normalised,
      );
      const classifier = await load(modelPath, { device: 'cpu' });
      const results = await classifier.classify(pixels, { topK: 1 });
      await classifier.dispose();
      let agree = 0;
      let correct = 0;
      results.forEach((r, i) => {
        if (r.top[0]!.index === argmax(reference, i * 4, 4)) agree++;
        if (r.top[0]!.index === files[i]!.label) correct++;
      });
      assert.equal(agree, files.length, "every top-1 of ONNX Runtime on the files equals the trained network's");
      t.diagnostic(
        `test accuracy ${((100 * correct) / files.length).toFixed(1)}% (${correct}/${files.length}; chance 25%)`,
      );
      assert.ok(correct / files.length > 0.5, `accuracy ${correct}/${files.length} should be far above chance`);
    },
  );
});

/** A valid 1-bit grey PNG of width x height, all black, refused from its header. */
function pngBomb(width: number, height: number): Buffer {
  const crc = (bytes: Uint8Array) => {
    let c = 0xffffffff;
    for (const b of bytes) {
      c ^= b;
      for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
    }
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, body: Uint8Array) => {
    const out = Buffer.alloc(12 + body.length);
    out.writeUInt32BE(body.length, 0);
    out.write(type, 4, 'latin1');
    out.set(body, 8);
    out.writeUInt32BE(crc(out.subarray(4, 8 + body.length)), 8 + body.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([1, 0, 0, 0, 0], 8);
  const rows = Buffer.alloc(height * (1 + Math.ceil(width / 8)));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

test('a folder of hostile files: one line each from the CLI, or skipped and listed with --skip-bad-images', {
  timeout: 600_000,
}, (t) => {
  if (!requirement(t, hasPil(), `no ${PYTHON} with PIL: install Debian's python3-pil`)) return;
  const source = join(work, 'hostile-source');
  const made = spawnSync(PYTHON, [MAKE_FOLDER, source, '--per-class', '10', '--classes', '0,1'], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  const good = (root: string) => {
    for (const cls of readdirSync(source)) {
      mkdirSync(join(root, cls), { recursive: true });
      for (const f of readdirSync(join(source, cls))) copyFileSync(join(source, cls, f), join(root, cls, f));
    }
  };
  const jpeg = readdirSync(join(source, 'Trouser')).find((f) => f.endsWith('.jpg'))!;
  const jpegBytes = readFileSync(join(source, 'Trouser', jpeg));
  const hostile: Record<string, { write: (path: string) => void; reason: RegExp }> = {
    'T-shirt_top/truncated.jpg': {
      write: (p) => writeFileSync(p, jpegBytes.subarray(0, jpegBytes.length >> 1)),
      reason: /corrupt or truncated JPEG: VipsJpeg: premature end of JPEG image/,
    },
    'T-shirt_top/zero.png': { write: (p) => writeFileSync(p, ''), reason: /empty file \(0 bytes\)/ },
    'Trouser/bomb.png': {
      write: (p) => writeFileSync(p, pngBomb(30000, 30000)),
      reason:
        /PNG of 30000x30000 = 900000000 pixels is over the limit of 100000000 \(limitInputPixels\): refused before decoding, as a possible decompression bomb/,
    },
    'Trouser/text.jpg': {
      write: (p) => writeFileSync(p, 'this is not a picture\n'),
      reason: /not a PNG, JPEG, WebP, GIF or TIFF image \(it starts with "this is "\)/,
    },
  };
  const args = (root: string, name: string) => [
    '--dataset',
    'folder',
    '--data',
    root,
    '--cache-dir',
    join(work, 'hostile-cache'),
    '--input-size',
    '16',
    '--depth',
    '8',
    '--batch-size',
    '4',
    '--test-split',
    '2',
    '--epochs',
    '1',
    '--run-dir',
    join(work, 'hostile-runs', name),
  ];
  /** The CLI's error: its last stderr line, which must be its only one. */
  const refused = (root: string, name: string): string => {
    const r = train(args(root, name));
    assert.equal(r.status, 1, r.out);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `one line: ${r.stderr}`);
    return lines[0]!;
  };

  for (const [path, { write, reason }] of Object.entries(hostile)) {
    const root = join(work, 'hostile-one', path.replace(/\W/g, '-'));
    good(root);
    write(join(root, path));
    const line = refused(root, path.replace(/\W/g, '-'));
    assert.ok(line.startsWith(`train: ${join(root, path)}: `), line);
    assert.match(line, reason);
  }

  const loop = join(work, 'hostile-loop');
  good(loop);
  symlinkSync('..', join(loop, 'Trouser', 'again'));
  assert.equal(
    refused(loop, 'loop'),
    `train: ${join(loop, 'Trouser', 'again')}: symbolic link loop: it leads back to ${loop}, a folder above it`,
  );
  const empty = join(work, 'hostile-empty');
  good(empty);
  mkdirSync(join(empty, 'Sandal'));
  writeFileSync(join(empty, 'Sandal', 'readme.txt'), 'to do');
  assert.equal(
    refused(empty, 'empty'),
    `train: ${join(empty, 'Sandal')}: empty class folder: no .png .jpg .jpeg .webp .gif .tif .tiff file in it`,
  );

  const all = join(work, 'hostile-all');
  good(all);
  for (const [path, { write }] of Object.entries(hostile)) write(join(all, path));
  writeFileSync(join(all, 'Trouser', 'notes.txt'), 'not an image');
  const r = train([...args(all, 'skip'), '--skip-bad-images']);
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /data: 24 images \(1 other files ignored\);/);
  const list = join(work, 'hostile-runs', 'skip', 'skipped-images.txt');
  assert.match(r.out, new RegExp(`skipped 4 images that cannot be decoded: listed in ${list}`));
  const listed = readFileSync(list, 'utf8').trim().split('\n').sort();
  assert.deepEqual(
    listed.map((l) => l.slice(0, l.indexOf(': '))),
    Object.keys(hostile).sort(),
  );
  for (const line of listed) assert.match(line, hostile[line.slice(0, line.indexOf(': '))]!.reason);
});

test.after(() => rmSync(work, { recursive: true, force: true }));
