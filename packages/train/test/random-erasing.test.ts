// Random erasing (Zhong et al. 2020): off at p = 0, one rectangle within the paper's bounds at p = 1, seeded,
// never in evaluation, erased fraction close to p; and the --random-erasing option of the training config.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createRng, trainConfigSchema } from '@depthfold/core';
import { helpText } from '@depthfold/core/node';
import {
  RANDOM_ERASING,
  erasingRectangle,
  fillBatch,
  memorySource,
  type Augment,
  type Split,
} from '../src/data/index.js';
import { evaluate } from '../src/evaluate.js';
import type { TrainEngine } from '../src/parallel/engine.js';

/** core's seeded generator as the plain function the batch helpers take. */
function seeded(seed: number): () => number {
  const rng = createRng(seed);
  return () => rng.next();
}

/** `count` random H x W x C images, so that every crop, flip and rectangle shows. */
function randomSplit(count: number, H: number, W: number, C: number, seed: number): Split {
  const rng = seeded(seed);
  const images = Uint8Array.from({ length: count * H * W * C }, () => Math.floor(rng() * 256));
  return { images, labels: new Uint8Array(count), count, height: H, width: W, channels: C };
}

/** The rectangle where `a` and `b` differ in image `n` (every value inside differs, none outside), or undefined. */
function differingRectangle(a: Float32Array, b: Float32Array, n: number, H: number, W: number, C: number) {
  let top = H;
  let left = W;
  let bottom = -1;
  let right = -1;
  let differing = 0;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      for (let c = 0; c < C; c++) {
        const k = ((n * H + y) * W + x) * C + c;
        if (a[k] === b[k]) continue;
        differing++;
        top = Math.min(top, y);
        left = Math.min(left, x);
        bottom = Math.max(bottom, y);
        right = Math.max(right, x);
      }
    }
  }
  if (differing === 0) return undefined;
  const height = bottom - top + 1;
  const width = right - left + 1;
  assert.equal(differing, height * width * C, `image ${n}: what changed is one whole rectangle, nothing else`);
  return { y: top, x: left, height, width };
}

describe('random erasing', () => {
  const H = 28;
  const W = 28;
  const mean = [0.3, 0.5, 0.2];
  const std = [0.25, 0.4, 0.3];
  const split = randomSplit(64, H, W, 3, 11);
  const indices = Array.from({ length: split.count }, (_, i) => (i * 7) % split.count);
  const size = indices.length * H * W * 3;
  const augment = (probability?: number, seed = 3): Augment => ({
    padCrop: 2,
    flip: true,
    rng: seeded(seed),
    ...(probability === undefined ? {} : { erasing: { probability, rng: seeded(seed + 1000) } }),
  });

  test('p = 0 changes nothing and draws nothing: the batches of today, bit for bit', () => {
    const today = new Float32Array(size);
    const off = new Float32Array(size);
    fillBatch(split, indices, today, { mean, std, augment: augment() });
    let draws = 0;
    const counting: Augment = {
      ...augment(),
      erasing: {
        probability: 0,
        rng: () => {
          draws++;
          return 0;
        },
      },
    };
    fillBatch(split, indices, off, { mean, std, augment: counting });
    assert.deepEqual(off, today);
    assert.equal(draws, 0);
  });

  test('p = 1 erases one rectangle per image within the bounds, with noise in the pixel range, and nothing else', () => {
    const plain = new Float32Array(size);
    const erased = new Float32Array(size);
    // The same crop and flip stream: erasing draws from its own, so the two batches differ only in the rectangles.
    fillBatch(split, indices, plain, { mean, std, augment: augment() });
    fillBatch(split, indices, erased, { mean, std, augment: augment(1) });
    const { minArea, maxArea, minAspect } = RANDOM_ERASING;
    const aspects = [];
    for (let n = 0; n < indices.length; n++) {
      const rect = differingRectangle(plain, erased, n, H, W, 3);
      assert.ok(rect, `image ${n} is erased`);
      const fraction = (rect.height * rect.width) / (H * W);
      const aspect = rect.height / rect.width;
      assert.ok(fraction >= minArea && fraction <= maxArea, `image ${n}: area fraction ${fraction}`);
      assert.ok(aspect >= minAspect && aspect <= 1 / minAspect, `image ${n}: aspect ratio ${aspect}`);
      aspects.push(aspect);
      for (let y = rect.y; y < rect.y + rect.height; y++) {
        for (let x = rect.x; x < rect.x + rect.width; x++) {
          for (let c = 0; c < 3; c++) {
            // Normalised uniform values of pixel/255 in [0, 1): [-mean/std, (1 - mean)/std), float32-rounded.
            const v = erased[((n * H + y) * W + x) * 3 + c]!;
            assert.ok(
              v >= Math.fround(-mean[c]! / std[c]!) && v <= Math.fround((1 - mean[c]!) / std[c]!),
              `fill ${v} in channel ${c}`,
            );
          }
        }
      }
    }
    assert.ok(aspects.some((a) => a < 1) && aspects.some((a) => a > 1), 'tall and wide rectangles both occur');
  });

  test('erasingRectangle: always within the image and the bounds; gives up after the bounded attempts', () => {
    const { minArea, maxArea, minAspect, attempts } = RANDOM_ERASING;
    const rng = seeded(42);
    const corners = new Set<string>();
    for (let t = 0; t < 5000; t++) {
      const r = erasingRectangle(H, W, rng);
      assert.ok(r, 'at 28x28 a rectangle is found');
      assert.ok(r.y >= 0 && r.x >= 0 && r.y + r.height <= H && r.x + r.width <= W, JSON.stringify(r));
      const fraction = (r.height * r.width) / (H * W);
      assert.ok(
        fraction >= minArea &&
          fraction <= maxArea &&
          r.height / r.width >= minAspect &&
          r.height / r.width <= 1 / minAspect,
      );
      corners.add(`${r.y},${r.x}`);
    }
    assert.ok(corners.has('0,0'), 'the corner (0, 0) is reachable');
    // Draws near 1: the largest, tallest rectangle, cornered at the far edge, never fits.
    let draws = 0;
    assert.equal(
      erasingRectangle(H, W, () => {
        draws++;
        return 0.999;
      }),
      undefined,
    );
    assert.equal(draws, 4 * attempts, 'four draws per attempt, a bounded number of attempts');
  });

  test('a seed reproduces the erased batch; another seed erases elsewhere', () => {
    const a = new Float32Array(size);
    const b = new Float32Array(size);
    const c = new Float32Array(size);
    fillBatch(split, indices, a, { mean, std, augment: augment(0.5, 7) });
    fillBatch(split, indices, b, { mean, std, augment: augment(0.5, 7) });
    fillBatch(split, indices, c, {
      mean,
      std,
      augment: { ...augment(0.5, 7), erasing: { probability: 0.5, rng: seeded(8) } },
    });
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });

  test('the fraction of erased images is close to p', () => {
    const small = randomSplit(2000, 12, 12, 1, 5);
    const all = Array.from({ length: small.count }, (_, i) => i);
    const n = small.count * 12 * 12;
    for (const p of [0.25, 0.5]) {
      const plain = new Float32Array(n);
      const erased = new Float32Array(n);
      const rng = (): Augment => ({ padCrop: 0, flip: false, rng: seeded(1) });
      fillBatch(small, all, plain, { mean: [0.5], std: [0.5], augment: rng() });
      fillBatch(small, all, erased, {
        mean: [0.5],
        std: [0.5],
        augment: { ...rng(), erasing: { probability: p, rng: seeded(99) } },
      });
      let count = 0;
      for (let i = 0; i < small.count; i++) if (differingRectangle(plain, erased, i, 12, 12, 1)) count++;
      // Binomial(2000, p): the standard deviation of the fraction is at most 0.011; allow 4 of them.
      assert.ok(Math.abs(count / small.count - p) < 0.045, `erased ${count} of ${small.count} at p = ${p}`);
    }
  });

  test('evaluation batches are never erased', async () => {
    const seen: Float32Array[] = [];
    const engine = {
      evaluate: async (batch: { pixels: Float32Array; count: number }) => {
        seen.push(batch.pixels.slice(0, batch.count * H * W * 3));
        return { lossSum: 0, correct: batch.count };
      },
    } as unknown as TrainEngine;
    await evaluate(engine, { source: memorySource(split), indices: Uint32Array.from(indices) }, [1], { mean, std }, 16);
    const expected = new Float32Array(size);
    fillBatch(split, indices, expected, { mean, std });
    const got = new Float32Array(size);
    let offset = 0;
    for (const pixels of seen) {
      got.set(pixels, offset);
      offset += pixels.length;
    }
    assert.equal(offset, size);
    assert.deepEqual(got, expected);
  });

  test('fillBatch rejects a probability outside [0, 1]', () => {
    const out = new Float32Array(size);
    for (const probability of [-0.1, 1.5, Number.NaN]) {
      assert.throws(
        () =>
          fillBatch(split, indices, out, {
            mean,
            std,
            augment: { ...augment(), erasing: { probability, rng: seeded(1) } },
          }),
        /erasing\.probability in \[0, 1\]/,
      );
    }
  });

  test('--random-erasing: default 0, validated to [0, 1], described in --help', () => {
    assert.equal(trainConfigSchema.parse({}).randomErasing, 0);
    assert.equal(trainConfigSchema.parse({ randomErasing: 0.5 }).randomErasing, 0.5);
    for (const bad of [-0.1, 1.01]) assert.equal(trainConfigSchema.safeParse({ randomErasing: bad }).success, false);
    assert.match(helpText('pnpm train', '', trainConfigSchema), /--random-erasing/);
  });
});
