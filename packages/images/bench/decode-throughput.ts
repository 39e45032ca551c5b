// Decode throughput of the cache's first pass on a Fashion-MNIST folder (make-fashion-folder.py, PNG and JPEG at
// 64x64), from the sources (the decode workers then start from src/ through tsx, as in the package's tests):
//   node --import tsx packages/images/bench/decode-throughput.ts [images] [threads]
// Prints images/s of the first pass on every core, of one thread, and the time of a second pass (nothing decoded).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DecodeCache, scanImageFolder, splitImageFolder } from '../src/node/index.js';

const images = Number(process.argv[2] ?? 2000);
const threads = Number(process.argv[3] ?? availableParallelism());
const dir = mkdtempSync(join(tmpdir(), 'depthfold-decode-bench-'));
try {
  const root = join(dir, 'fashion');
  const made = spawnSync(
    '/usr/bin/python3',
    [
      new URL('../test/make-fashion-folder.py', import.meta.url).pathname,
      root,
      '--per-class',
      String(Math.ceil(images / 10)),
      '--classes',
      '0,1,2,3,4,5,6,7,8,9',
      '--source',
      'train',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  if (made.status !== 0) throw new Error('make-fashion-folder.py failed');
  const description = splitImageFolder(await scanImageFolder(root), { seed: 0 });
  const list = { root, files: description.files };
  const preprocessing = {
    resize: 'shorter-side-crop',
    interpolation: 'bilinear',
    cropFraction: 0.875,
    colour: 'rgb',
    background: [255, 255, 255],
  } as const;
  const size = { height: 56, width: 56 };
  const run = async (name: string, cacheName: string, n: number) => {
    const cache = await DecodeCache.open({
      dir: join(dir, cacheName),
      preprocessing: { ...preprocessing, background: [255, 255, 255] },
      size,
    });
    const started = performance.now();
    const report = await cache.fill(list, { threads: n });
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `${name}: ${report.decoded} decoded, ${report.cached} cached in ${seconds.toFixed(2)} s (${report.imagesPerSecond.toFixed(0)} images/s decoding, ${n} thread${n === 1 ? '' : 's'})`,
    );
  };
  console.log(
    `${list.files.length} images (64x64 PNG/JPEG) -> ${size.height}x${size.width} RGB, shorter-side-crop 0.875`,
  );
  await run('first pass, every core', 'all-cores', threads);
  await run('second pass', 'all-cores', threads);
  await run('first pass, one thread', 'one-thread', 1);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
