// Dataset readers: IDX and CIFAR files written to a temp dir and read back, corrupt files, batching and augmentation.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGzip, gzipSync } from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  DatasetError,
  parseIdx,
  readIdxFile,
  parseCifar,
  readCifarFile,
  loadDataset,
  shuffledOrder,
  fillBatch,
  fillLabels,
  channelStats,
  DEFAULT_FASHION_MNIST_DIR,
  type Split,
} from '../src/data/index.js';
import { createRng } from '@depthfold/core';

/** core's seeded generator as the plain function the batch helpers take. */
function seeded(seed: number): () => number {
  const rng = createRng(seed);
  return () => rng.next();
}

/** An unsigned-byte IDX file with the given dims and data. */
function idxBytes(dims: number[], data: Uint8Array, typeByte = 0x08): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  out[2] = typeByte;
  out[3] = dims.length;
  const view = new DataView(out.buffer);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

/** `head` followed by `mebibytes` MiB of zeros, gzipped as a stream (the zeros are never all in memory). */
async function gzipBomb(head: Uint8Array, mebibytes: number): Promise<Buffer> {
  const gz = createGzip({ level: 9 });
  const out: Buffer[] = [];
  gz.on('data', (chunk: Buffer) => out.push(chunk));
  const ended = new Promise((resolve) => gz.on('end', resolve));
  gz.write(head);
  const zeros = Buffer.alloc(2 ** 20);
  for (let i = 0; i < mebibytes; i++) if (!gz.write(zeros)) await new Promise((resolve) => gz.once('drain', resolve));
  gz.end();
  await ended;
  return Buffer.concat(out);
}

function seq(n: number, f: (i: number) => number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => f(i) & 0xff);
}

/** A CIFAR file; pixel value depends on record, channel and position so the HWC conversion can be checked. */
function cifarBytes(variant: 'cifar10' | 'cifar100', labels: number[], coarse?: number[]): Uint8Array {
  const labelBytes = variant === 'cifar10' ? 1 : 2;
  const rec = labelBytes + 3072;
  const out = new Uint8Array(labels.length * rec);
  labels.forEach((label, r) => {
    const base = r * rec;
    if (variant === 'cifar100') out[base] = coarse?.[r] ?? 0;
    out[base + labelBytes - 1] = label;
    for (let c = 0; c < 3; c++)
      for (let p = 0; p < 1024; p++) out[base + labelBytes + c * 1024 + p] = cifarPixel(r, c, p);
  });
  return out;
}

function cifarPixel(r: number, c: number, p: number): number {
  return (r * 7 + c * 50 + p) & 0xff;
}

/** Asserts `fn` rejects with a DatasetError whose message contains every fragment. */
async function rejectsWith(fn: () => Promise<unknown>, fragments: string[]): Promise<DatasetError> {
  let caught: unknown;
  try {
    await fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof DatasetError, `expected a DatasetError, got ${String(caught)}`);
  for (const f of fragments)
    assert.ok(caught.message.includes(f), `message ${JSON.stringify(caught.message)} lacks ${JSON.stringify(f)}`);
  return caught;
}

let tmp: string;
before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'depthfold-data-'));
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** Writes a 4-file MNIST-style dataset; `gz` chooses gzipped names. Returns the folder. */
async function writeMnistLike(
  name: string,
  opts: { gz: boolean; train?: number; test?: number; labelsOf?: (i: number) => number },
): Promise<string> {
  const dir = join(tmp, name);
  await mkdir(dir, { recursive: true });
  const labelOf = opts.labelsOf ?? ((i: number) => i % 10);
  const write = async (file: string, bytes: Uint8Array): Promise<void> =>
    writeFile(join(dir, opts.gz ? `${file}.gz` : file), opts.gz ? gzipSync(bytes) : bytes);
  for (const [prefix, n] of [
    ['train', opts.train ?? 5],
    ['t10k', opts.test ?? 3],
  ] as const) {
    await write(
      `${prefix}-images-idx3-ubyte`,
      idxBytes(
        [n, 28, 28],
        seq(n * 784, (i) => i * 3),
      ),
    );
    await write(`${prefix}-labels-idx1-ubyte`, idxBytes([n], seq(n, labelOf)));
  }
  return dir;
}

describe('IDX', () => {
  test('parses a valid unsigned-byte file', () => {
    const r = parseIdx(
      idxBytes(
        [2, 3],
        seq(6, (i) => i + 1),
      ),
      'x.idx',
    );
    assert.deepEqual(r.dims, [2, 3]);
    assert.deepEqual(Array.from(r.data), [1, 2, 3, 4, 5, 6]);
    assert.equal(Object.getPrototypeOf(r.data), Uint8Array.prototype);
  });

  test('bad magic, wrong type byte, truncated, oversized, zero dims', () => {
    const good = idxBytes(
      [2, 3],
      seq(6, (i) => i),
    );
    const badMagic = good.slice();
    badMagic[1] = 1;
    assert.throws(
      () => parseIdx(badMagic, 'm.idx'),
      (e: unknown) =>
        e instanceof DatasetError && /m\.idx: magic number: expected .*0x00000803.*received 0x00010802/.test(e.message),
    );
    assert.throws(
      () =>
        parseIdx(
          idxBytes(
            [2],
            seq(2, (i) => i),
            0x0d,
          ),
          't.idx',
        ),
      (e: unknown) =>
        e instanceof DatasetError &&
        /t\.idx: type byte: expected 0x08 \(unsigned byte\), received 0x0d \(float32\)/.test(e.message),
    );
    assert.throws(
      () => parseIdx(good.subarray(0, good.length - 1), 'short.idx'),
      (e: unknown) =>
        e instanceof DatasetError &&
        /short\.idx: file length: expected 18 bytes .*received 17 bytes \(truncated\)/.test(e.message),
    );
    const big = new Uint8Array(good.length + 2);
    big.set(good);
    assert.throws(
      () => parseIdx(big, 'big.idx'),
      (e: unknown) => e instanceof DatasetError && /received 20 bytes \(trailing bytes\)/.test(e.message),
    );
    assert.throws(
      () => parseIdx(good.subarray(0, 8), 'hdr.idx'),
      (e: unknown) => e instanceof DatasetError && /header: expected 12 bytes.*received 8 bytes/.test(e.message),
    );
    assert.throws(
      () => parseIdx(new Uint8Array([0, 0, 8, 0]), 'z.idx'),
      (e: unknown) =>
        e instanceof DatasetError && /number of dimensions: expected at least 1, received 0/.test(e.message),
    );
    assert.throws(() => parseIdx(new Uint8Array([0, 0]), 'tiny.idx'), DatasetError);
  });

  test('reads raw and gzipped files; truncated gzip names the file', async () => {
    const bytes = idxBytes(
      [4],
      seq(4, (i) => 9 - i),
    );
    const raw = join(tmp, 'labels-raw');
    const gz = join(tmp, 'labels.gz');
    await writeFile(raw, bytes);
    await writeFile(gz, gzipSync(bytes));
    assert.deepEqual(Array.from((await readIdxFile(raw)).data), [9, 8, 7, 6]);
    assert.deepEqual(Array.from((await readIdxFile(gz)).data), [9, 8, 7, 6]);
    const zipped = gzipSync(
      idxBytes(
        [1000],
        seq(1000, (i) => i * 31),
      ),
    );
    const cut = join(tmp, 'cut.gz');
    await writeFile(cut, zipped.subarray(0, zipped.length - 20));
    await rejectsWith(() => readIdxFile(cut), [cut, 'gzip stream', 'expected a complete gzip stream', 'truncated']);
    await rejectsWith(() => readIdxFile(join(tmp, 'nope')), [join(tmp, 'nope'), 'no such file']);
  });

  test('a gzip bomb stops inflating past the length its header declares, in bounded memory', {
    timeout: 60_000,
  }, async () => {
    // The header of 10 images of 28x28 (7856 bytes in all), then 256 MiB of zeros: 255 KiB gzipped.
    const bomb = join(tmp, 'bomb-images-idx3-ubyte.gz');
    await writeFile(bomb, await gzipBomb(idxBytes([10, 28, 28], new Uint8Array(0)), 256));
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('fixtures/idx-peak-memory.ts', import.meta.url)), bomb],
      { encoding: 'utf8' },
    );
    assert.equal(child.status, 0, child.stderr);
    const { message, peakGrowthBytes } = JSON.parse(child.stdout) as { message: string; peakGrowthBytes: number };
    assert.match(
      message,
      /bomb-images-idx3-ubyte\.gz: inflated size: expected 7856 bytes \(16-byte header \+ 10x28x28 data bytes\), received more than 7856 bytes \(inflating stopped at \d+ of a \d+-byte gzip file\)/,
    );
    assert.ok(!message.includes('\n'), 'one line');
    // Inflating it all (as gunzipSync did) peaks at 256 MiB or more; stopping early costs a few zlib chunks.
    assert.ok(
      peakGrowthBytes < 32 * 2 ** 20,
      `peak memory grew by ${(peakGrowthBytes / 2 ** 20).toFixed(1)} MiB reading the bomb`,
    );
  });

  test('a header declaring more than 1 GiB of data is refused before any data is read', async () => {
    assert.throws(
      () => parseIdx(idxBytes([65536, 65536], new Uint8Array(0)), 'huge.idx'),
      (e: unknown) =>
        e instanceof DatasetError &&
        /huge\.idx: dimensions: expected at most 1073741824 data bytes, received 65536x65536 = 4294967296 bytes/.test(
          e.message,
        ),
    );
    const gz = join(tmp, 'huge.gz');
    await writeFile(gz, gzipSync(idxBytes([65536, 65536], new Uint8Array(64))));
    await rejectsWith(() => readIdxFile(gz), [gz, 'dimensions', '4294967296 bytes']);
  });
});

describe('CIFAR', () => {
  test('CIFAR-10: labels and planar-to-HWC conversion', () => {
    const r = parseCifar(cifarBytes('cifar10', [3, 9]), 'b.bin', 'cifar10');
    assert.equal(r.count, 2);
    assert.deepEqual(Array.from(r.labels), [3, 9]);
    for (const [rec, y, x, c] of [
      [0, 0, 0, 0],
      [1, 31, 31, 2],
      [1, 5, 17, 1],
      [0, 12, 3, 2],
    ] as const) {
      assert.equal(r.images[rec * 3072 + (y * 32 + x) * 3 + c], cifarPixel(rec, c, y * 32 + x));
    }
  });

  test('CIFAR-100 keeps the fine label', async () => {
    const path = join(tmp, 'train.bin');
    await writeFile(path, cifarBytes('cifar100', [99, 42], [19, 3]));
    const r = await readCifarFile(path, 'cifar100');
    assert.deepEqual(Array.from(r.labels), [99, 42]);
    assert.equal(r.images[3072 + 1], cifarPixel(1, 1, 0));
  });

  test('size not a multiple of the record, label out of range', () => {
    const ten = cifarBytes('cifar10', [1, 2]);
    assert.throws(
      () => parseCifar(ten.subarray(0, ten.length - 5), 'cut.bin', 'cifar10'),
      (e: unknown) =>
        e instanceof DatasetError &&
        /cut\.bin: file size: expected a positive multiple of the cifar10 record size, 3073 bytes.*received 6141 bytes/.test(
          e.message,
        ),
    );
    // A CIFAR-10 file read as CIFAR-100 has the wrong record size.
    assert.throws(
      () => parseCifar(ten, 'ten.bin', 'cifar100'),
      (e: unknown) => e instanceof DatasetError && /3074 bytes.*received 6146 bytes/.test(e.message),
    );
    assert.throws(() => parseCifar(new Uint8Array(0), 'empty.bin', 'cifar10'), DatasetError);
    assert.throws(
      () => parseCifar(cifarBytes('cifar10', [1, 10]), 'l.bin', 'cifar10'),
      (e: unknown) =>
        e instanceof DatasetError &&
        /l\.bin: label of record 1: expected a value below 10, received 10/.test(e.message),
    );
    assert.throws(
      () => parseCifar(cifarBytes('cifar100', [100]), 'f.bin', 'cifar100'),
      (e: unknown) =>
        e instanceof DatasetError && /fine label of record 0: expected a value below 100, received 100/.test(e.message),
    );
    assert.throws(
      () => parseCifar(cifarBytes('cifar100', [5], [20]), 'c.bin', 'cifar100'),
      (e: unknown) => e instanceof DatasetError && /coarse label of record 0/.test(e.message),
    );
  });
});

describe('loadDataset', () => {
  test('MNIST-style, gzipped and raw', async () => {
    for (const gz of [true, false]) {
      const dir = await writeMnistLike(`mnist-${gz}`, { gz });
      const d = await loadDataset('mnist', dir);
      assert.equal(d.train.count, 5);
      assert.equal(d.test.count, 3);
      assert.deepEqual([d.height, d.width, d.channels, d.numClasses], [28, 28, 1, 10]);
      assert.equal(d.train.images.length, 5 * 784);
      assert.equal(d.train.images[100], (100 * 3) & 0xff);
      assert.deepEqual(Array.from(d.test.labels), [0, 1, 2]);
    }
  });

  test('missing dir, missing files, count mismatch, label out of range, wrong dims', async () => {
    await rejectsWith(() => loadDataset('mnist'), ['mnist', 'data folder', 'none given', 'train-images-idx3-ubyte.gz']);
    await rejectsWith(
      () => loadDataset('cifar10'),
      ['cifar10', 'data_batch_1.bin', 'test_batch.bin', 'cifar-10-binary.tar.gz'],
    );
    await rejectsWith(
      () => loadDataset('fashion-mnist', join(tmp, 'absent')),
      ['fashion-mnist', join(tmp, 'absent'), 'nothing there', 'apt-get install dataset-fashion-mnist', '--data DIR'],
    );

    const partial = await writeMnistLike('partial', { gz: true });
    await rm(join(partial, 't10k-labels-idx1-ubyte.gz'));
    await rejectsWith(
      () => loadDataset('fashion-mnist', partial),
      [
        'fashion-mnist: file: expected',
        join(partial, 't10k-labels-idx1-ubyte.gz'),
        join(partial, 't10k-labels-idx1-ubyte'),
        'received no such file',
        'apt-get install dataset-fashion-mnist',
      ],
    );

    const mismatch = await writeMnistLike('mismatch', { gz: false });
    await writeFile(
      join(mismatch, 'train-labels-idx1-ubyte'),
      idxBytes(
        [4],
        seq(4, (i) => i),
      ),
    );
    await rejectsWith(
      () => loadDataset('mnist', mismatch),
      ['train-labels-idx1-ubyte', 'label count', 'expected 5', 'received 4'],
    );

    const badLabel = await writeMnistLike('badlabel', { gz: true, labelsOf: (i) => (i === 2 ? 10 : 1) });
    await rejectsWith(
      () => loadDataset('mnist', badLabel),
      ['labels-idx1-ubyte.gz', 'label 2', 'below 10', 'received 10'],
    );

    const dims = await writeMnistLike('dims', { gz: false });
    await writeFile(join(dims, 't10k-images-idx3-ubyte'), idxBytes([3, 32, 32], new Uint8Array(3 * 1024)));
    await rejectsWith(
      () => loadDataset('mnist', dims),
      ['t10k-images-idx3-ubyte', 'image dimensions', '[count, 28, 28]', '[3, 32, 32]'],
    );

    // Images and labels swapped: caught by the number of dimensions.
    const swapped = await writeMnistLike('swapped', { gz: false });
    await writeFile(
      join(swapped, 't10k-images-idx3-ubyte'),
      idxBytes(
        [3],
        seq(3, (i) => i),
      ),
    );
    await rejectsWith(() => loadDataset('mnist', swapped), ['image dimensions', 'received [3]']);

    await rejectsWith(
      () => loadDataset('imagenet' as 'mnist', tmp),
      ['dataset name', 'fashion-mnist, mnist, cifar10, cifar100', '"imagenet"'],
    );
  });

  test('CIFAR-10 (5 training batches concatenated) and CIFAR-100', async () => {
    const c10 = join(tmp, 'cifar-10-batches-bin');
    await mkdir(c10);
    for (let b = 1; b <= 5; b++) await writeFile(join(c10, `data_batch_${b}.bin`), cifarBytes('cifar10', [b, b + 1]));
    await writeFile(join(c10, 'test_batch.bin'), cifarBytes('cifar10', [0, 1, 2]));
    const d10 = await loadDataset('cifar10', c10);
    assert.equal(d10.train.count, 10);
    assert.deepEqual(Array.from(d10.train.labels), [1, 2, 2, 3, 3, 4, 4, 5, 5, 6]);
    assert.deepEqual([d10.height, d10.width, d10.channels, d10.numClasses, d10.test.count], [32, 32, 3, 10, 3]);
    assert.equal(d10.train.images.length, 10 * 3072);

    const c100 = join(tmp, 'cifar-100-binary');
    await mkdir(c100);
    await writeFile(join(c100, 'train.bin'), cifarBytes('cifar100', [7, 77, 99]));
    await rejectsWith(
      () => loadDataset('cifar100', c100),
      [join(c100, 'test.bin'), 'no such file', 'train.bin, test.bin'],
    );
    await writeFile(join(c100, 'test.bin'), cifarBytes('cifar100', [50]));
    const d100 = await loadDataset('cifar100', c100);
    assert.deepEqual(Array.from(d100.train.labels), [7, 77, 99]);
    assert.equal(d100.numClasses, 100);

    await writeFile(join(c10, 'data_batch_3.bin'), new Uint8Array(3073 * 2 + 1));
    await rejectsWith(
      () => loadDataset('cifar10', c10),
      [join(c10, 'data_batch_3.bin'), '3073 bytes', 'received 6147 bytes'],
    );
  });

  test('the installed Fashion-MNIST, when present', {
    skip: !existsSync(DEFAULT_FASHION_MNIST_DIR) && `${DEFAULT_FASHION_MNIST_DIR} absent`,
  }, async () => {
    const d = await loadDataset('fashion-mnist');
    assert.equal(d.train.count, 60000);
    assert.equal(d.test.count, 10000);
    assert.equal(d.train.images.length, 60000 * 28 * 28);
    assert.deepEqual([d.height, d.width, d.channels, d.numClasses], [28, 28, 1, 10]);
    const perClass = new Array<number>(10).fill(0);
    for (const l of d.train.labels) perClass[l]!++;
    assert.deepEqual(perClass, new Array<number>(10).fill(6000));
    const stats = channelStats(d.train);
    // The commonly quoted Fashion-MNIST statistics: mean 0.2860, std 0.3530.
    assert.ok(Math.abs(stats.mean[0]! - 0.286) < 1e-3, `mean ${stats.mean[0]}`);
    assert.ok(Math.abs(stats.std[0]! - 0.353) < 1e-3, `std ${stats.std[0]}`);
  });
});

describe('batches', () => {
  /** A 2-image RGB split, 4x3: pixel value encodes (image, y, x, c). */
  const H = 4;
  const W = 3;
  const C = 3;
  const pix = (n: number, y: number, x: number, c: number): number => n * 100 + y * 20 + x * 5 + c + 1;
  const split: Split = {
    images: Uint8Array.from({ length: 2 * H * W * C }, (_, k) => {
      const c = k % C;
      const x = Math.floor(k / C) % W;
      const y = Math.floor(k / (C * W)) % H;
      const n = Math.floor(k / (C * W * H));
      return pix(n, y, x, c);
    }),
    labels: Uint8Array.from([4, 7]),
    count: 2,
    height: H,
    width: W,
    channels: C,
  };
  const mean = [0.1, 0.2, 0.3];
  const std = [0.5, 0.25, 2];
  const norm = (v: number, c: number): number => Math.fround((v / 255 - mean[c]!) / std[c]!);
  const at = (out: Float32Array, b: number, y: number, x: number, c: number): number =>
    out[((b * H + y) * W + x) * C + c]!;

  test('shuffledOrder is a permutation, deterministic for a seed', () => {
    const a = shuffledOrder(1000, seeded(7));
    assert.deepEqual(
      Array.from(a).sort((p, q) => p - q),
      Array.from({ length: 1000 }, (_, i) => i),
    );
    assert.deepEqual(a, shuffledOrder(1000, seeded(7)));
    assert.notDeepEqual(a, shuffledOrder(1000, seeded(8)));
    assert.deepEqual(Array.from(shuffledOrder(1, seeded(1))), [0]);
    assert.equal(shuffledOrder(0, seeded(1)).length, 0);
  });

  test('fillBatch normalises into NHWC, in index order', () => {
    const out = new Float32Array(2 * H * W * C + 5).fill(-99);
    fillBatch(split, [1, 0], out, { mean, std });
    for (const [b, n] of [
      [0, 1],
      [1, 0],
    ] as const) {
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++)
          for (let c = 0; c < C; c++) assert.equal(at(out, b, y, x, c), norm(pix(n, y, x, c), c));
    }
    assert.equal(out[2 * H * W * C], -99, 'writes only the prefix it needs');
    const labels = new Int32Array(2);
    fillLabels(split, [1, 0], labels);
    assert.deepEqual(Array.from(labels), [7, 4]);
  });

  test('flip with no crop mirrors each row', () => {
    // An rng whose draws are dy, dx, flip: 0.5 maps to offset 0 when padCrop is 0, 0.1 < 0.5 flips.
    const draws = [0.5, 0.5, 0.1];
    let i = 0;
    const out = new Float32Array(H * W * C);
    fillBatch(split, [1], out, { mean, std, augment: { padCrop: 0, flip: true, rng: () => draws[i++ % 3]! } });
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++)
        for (let c = 0; c < C; c++) assert.equal(at(out, 0, y, x, c), norm(pix(1, y, W - 1 - x, c), c));
    assert.equal(i, 3, 'three draws per image');
  });

  test('crop shifts by the drawn offset and pads with pixel value 0', () => {
    // padCrop 2: offsets are floor(r * 5) - 2; 0.99 -> +2 (dy), 0.0 -> -2 (dx), 0.9 -> no flip.
    const draws = [0.99, 0.0, 0.9];
    let i = 0;
    const out = new Float32Array(H * W * C);
    fillBatch(split, [0], out, { mean, std, augment: { padCrop: 2, flip: true, rng: () => draws[i++]! } });
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const sy = y + 2;
        const sx = x - 2;
        for (let c = 0; c < C; c++) {
          const inside = sy < H && sx >= 0;
          assert.equal(at(out, 0, y, x, c), norm(inside ? pix(0, sy, sx, c) : 0, c), `y=${y} x=${x} c=${c}`);
        }
      }
    }
  });

  test('augmentation: offsets stay within padCrop, same seed gives same batch', () => {
    // A single bright pixel in the middle of a 9x9 grey image: its position in the output reveals the offset.
    const S = 9;
    const img = new Uint8Array(S * S);
    img[4 * S + 4] = 255;
    const one: Split = { images: img, labels: new Uint8Array(1), count: 1, height: S, width: S, channels: 1 };
    const seen = new Set<string>();
    const rng = seeded(123);
    const out = new Float32Array(S * S);
    for (let t = 0; t < 400; t++) {
      fillBatch(one, [0], out, { mean: [0], std: [1], augment: { padCrop: 2, flip: false, rng } });
      const k = out.indexOf(1);
      assert.ok(k >= 0);
      const dy = 4 - Math.floor(k / S);
      const dx = 4 - (k % S);
      assert.ok(Math.abs(dy) <= 2 && Math.abs(dx) <= 2, `offset ${dy},${dx}`);
      seen.add(`${dy},${dx}`);
    }
    assert.equal(seen.size, 25, 'every offset in [-2, 2]^2 occurs');

    const indices = [0, 1, 1, 0];
    const a = new Float32Array(4 * H * W * C);
    const b = new Float32Array(4 * H * W * C);
    fillBatch(split, indices, a, { mean, std, augment: { padCrop: 1, flip: true, rng: seeded(5) } });
    fillBatch(split, indices, b, { mean, std, augment: { padCrop: 1, flip: true, rng: seeded(5) } });
    assert.deepEqual(a, b);
  });

  test('argument errors', () => {
    const out = new Float32Array(H * W * C);
    assert.throws(() => fillBatch(split, [0, 1], out, { mean, std }), /at least 72 floats/);
    assert.throws(() => fillBatch(split, [2], out, { mean, std }), /indices in \[0, 2\), received 2/);
    assert.throws(() => fillBatch(split, [0], out, { mean: [0], std: [1] }), /3 mean and std values/);
    assert.throws(() => fillBatch(split, [0], out, { mean, std: [1, 0, 1] }), /std\[1\] > 0/);
  });

  test('channelStats', () => {
    const s: Split = {
      images: Uint8Array.from([0, 255, 255, 255, 0, 255]),
      labels: new Uint8Array(3),
      count: 3,
      height: 1,
      width: 1,
      channels: 2,
    };
    // Channel 0: 0, 255, 0 -> mean 1/3, std sqrt(2)/3. Channel 1: all 255 -> mean 1, std 0.
    const { mean: m, std: sd } = channelStats(s);
    assert.ok(Math.abs(m[0]! - 1 / 3) < 1e-12 && Math.abs(sd[0]! - Math.SQRT2 / 3) < 1e-12);
    assert.equal(m[1], 1);
    assert.equal(sd[1], 0);
  });
});
