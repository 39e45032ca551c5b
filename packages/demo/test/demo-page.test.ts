// The built demo in Chromium (Debian's, driven by playwright-core), served from 127.0.0.1 with and without
// COOP/COEP: on WebGPU and on WebAssembly the page shows, for 8 Fashion-MNIST test images, the classes that
// @depthfold/infer finds in Node on the CPU; WebAssembly runs min(4, cores) threads on the cross-origin isolated
// page and 1 elsewhere; each page downloads only the ONNX Runtime build it runs; a drawing and an opened picture
// are classified. Screenshots go to test-artifacts/demo-*.png.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { load, type Classifier, type Prediction } from '@depthfold/infer/node';
import { requirement } from '@depthfold/testing';
import { loadDataset } from '@depthfold/train';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { DemoResult, DemoRun } from '../src/demo-api.js';
import { describeModel, pageTexts } from '../src/model-description.js';
import { serveStatic, type StaticServer } from './static-server.js';

const packageDir = dirname(dirname(fileURLToPath(import.meta.url)));
const dist = join(packageDir, 'dist');
const artifacts = resolve(packageDir, '..', '..', 'test-artifacts');
const CHROMIUM = '/usr/bin/chromium';
const IMAGES = 8;
// Logits agree to ~1e-6 (WASM) and ~1e-5 (WebGPU); probabilities closer than this may swap places in a ranking.
const TOLERANCE = 1e-4;

interface Expected {
  pixels: number[];
  /** Node's probability of every class. */
  probabilities: Float64Array;
  top: Prediction[];
}

/** Node's classification, on the CPU, of `images` (default: the first test images). */
async function expectations(model: Uint8Array, images?: readonly Uint8Array[]): Promise<Expected[]> {
  if (!images) {
    const { test: split } = await loadDataset('fashion-mnist');
    const size = split.height * split.width * split.channels;
    images = Array.from({ length: IMAGES }, (_, i) => split.images.slice(i * size, (i + 1) * size));
  }
  const classifier: Classifier = await load(model, { device: 'cpu' });
  try {
    const all = await classifier.classify(images, { topK: classifier.info.labels.length });
    return all.map(({ top }, i) => {
      const probabilities = new Float64Array(top.length);
      for (const p of top) probabilities[p.index] = p.probability;
      return { pixels: Array.from(images[i]!), probabilities, top: top.slice(0, 3) };
    });
  } finally {
    await classifier.dispose();
  }
}

/** Same ranking as Node's, where classes whose probabilities are within TOLERANCE may trade places. */
function assertSameTop(shown: readonly Prediction[], expected: Expected, what: string): void {
  assert.equal(shown.length, expected.top.length, what);
  shown.forEach((p, rank) => {
    const node = expected.top[rank];
    assert.ok(node, `${what}: Node ranks ${expected.top.length} classes, the browser shows rank ${rank + 1}`);
    const message = `${what}, rank ${rank + 1}: browser ${p.label} ${p.probability}, Node ${node.label} ${node.probability}`;
    assert.ok(Math.abs(expected.probabilities[p.index]! - node.probability) < TOLERANCE, message);
    assert.ok(Math.abs(p.probability - expected.probabilities[p.index]!) < TOLERANCE, message);
  });
}

async function openPage(context: BrowserContext, url: string, errors: string[]): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(url);
  return page;
}

/** Classifies every image through `window.depthfold` and checks the result and the list the page shows. */
async function checkClasses(page: Page, expected: readonly Expected[], what: string): Promise<void> {
  for (const [i, image] of expected.entries()) {
    const result: DemoResult = await page.evaluate((pixels) => window.depthfold.classify(pixels), image.pixels);
    assertSameTop(result.top, image, `${what}, image ${i}`);
    const shown = await page.$$eval('#top li', (items) => items.map((item) => Number(item.getAttribute('data-index'))));
    assert.deepEqual(
      shown,
      result.top.map((p) => p.index),
      `${what}, image ${i}: the page shows the result`,
    );
  }
}

function screenshot(page: Page, name: string): Promise<Buffer> {
  mkdirSync(artifacts, { recursive: true });
  return page.screenshot({ path: join(artifacts, `demo-${name}.png`) });
}

const ortBuilds = (server: StaticServer): string[] =>
  [
    ...new Set(
      server.requests
        .filter((r) => /\/ort[.-]/.test(r))
        .map((r) => r.replace(/^.*\//, '').replace(/-[\w-]{8}\.js$/, '.js')),
    ),
  ].sort();

test('the demo page in Chromium classifies as Node does, on WebGPU and WebAssembly', {
  timeout: 240_000,
}, async (t: TestContext) => {
  if (
    !requirement(
      t,
      existsSync(CHROMIUM),
      `no ${CHROMIUM}: install Debian's chromium (tools/setup.sh does) to run the browser tests`,
    )
  )
    return;
  assert.ok(
    existsSync(join(dist, 'index.html')),
    'the demo is built (pnpm --filter @depthfold/demo build, or turbo run build)',
  );
  const models = readdirSync(join(dist, 'models')).filter((f) => f.endsWith('.onnx'));
  assert.equal(models.length, 1, `one model in dist/models: ${models.join(', ')}`);
  const modelBytes = readFileSync(join(dist, 'models', models[0]!));
  const expected = await expectations(modelBytes);

  const profile = mkdtempSync(join(tmpdir(), 'depthfold-chromium-'));
  const isolated = await serveStatic(dist, true);
  const plain = await serveStatic(dist, false);
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--enable-unsafe-webgpu',
    ],
    viewport: { width: 1000, height: 560 },
  });
  const errors: string[] = [];
  try {
    // One page runs the WebGPU cases and then the WebAssembly one, so that the slow WebGPU start happens once. Its
    // start (the 27 MB runtime, the device) and its first run (every shader compiled on the CPU by SwiftShader) are
    // separate cases: each takes 10-30 s on 2 cores, depending on what else runs.
    let page: Page | undefined;
    await t.test(
      'COOP/COEP, device auto: WebGPU starts, from the WebGPU build alone',
      { timeout: 60_000 },
      async () => {
        page = await openPage(context, isolated.url, errors);
        const run: DemoRun = await page.evaluate(() => window.depthfold.ready);
        assert.equal(run.crossOriginIsolated, true);
        assert.deepEqual([run.device, run.provider, run.fallbacks], ['webgpu', 'webgpu', []], JSON.stringify(run));
        assert.equal(await page.textContent('#provider'), 'webgpu');
        // What the page says about the model is the model's metadata, as Node reads it.
        const node = await load(modelBytes, { device: 'cpu' });
        const texts = pageTexts(node.info.metadata);
        await node.dispose();
        assert.equal(await page.textContent('#model'), describeModel(node.info));
        assert.deepEqual(
          [await page.title(), await page.textContent('#headline'), await page.textContent('#prompt')],
          [texts.title, texts.headline, texts.prompt],
        );
        assert.deepEqual(
          ortBuilds(isolated),
          ['ort-wasm-simd-threaded.asyncify.mjs', 'ort-wasm-simd-threaded.asyncify.wasm', 'ort.webgpu.min.js'],
          'only the WebGPU build is downloaded',
        );
      },
    );

    await t.test('WebGPU shows the classes Node finds', { timeout: 60_000 }, async () => {
      assert.ok(page, 'the WebGPU page started');
      await checkClasses(page, expected, 'webgpu');
      await screenshot(page, 'webgpu');
    });

    await t.test(
      'COOP/COEP, wasm from the device selector: min(4, cores) threads, the classes Node finds',
      { timeout: 60_000 },
      async () => {
        page ??= await openPage(context, isolated.url, errors);
        await page.selectOption('#device', 'wasm');
        await page.waitForFunction(() => document.querySelector('#provider')?.textContent === 'wasm');
        const run: DemoRun = await page.evaluate(() => window.depthfold.ready.then(() => window.depthfold.use('wasm')));
        const cores = await page.evaluate(() => navigator.hardwareConcurrency);
        assert.deepEqual([run.crossOriginIsolated, run.provider], [true, 'wasm']);
        assert.equal(run.wasmThreads, Math.min(4, cores), `threads on ${cores} cores`);
        assert.ok(run.wasmThreads >= 2 || cores === 1, 'threads are used');
        await checkClasses(page, expected, 'wasm, isolated');
        await screenshot(page, 'wasm-isolated');
        await page.close();
      },
    );

    await t.test(
      'no COOP/COEP, device wasm: 1 thread, the classes Node finds, only the WebAssembly build',
      { timeout: 60_000 },
      async () => {
        const page = await openPage(context, `${plain.url}?device=wasm`, errors);
        const run: DemoRun = await page.evaluate(() => window.depthfold.ready);
        assert.deepEqual(
          [run.crossOriginIsolated, run.device, run.provider, run.wasmThreads],
          [false, 'wasm', 'wasm', 1],
        );
        await checkClasses(page, expected, 'wasm, not isolated');
        assert.deepEqual(
          ortBuilds(plain),
          ['ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm', 'ort.wasm.min.js'],
          'only the WebAssembly build is downloaded',
        );
        await screenshot(page, 'wasm');
        await page.close();
      },
    );

    await t.test(
      'drawing on the pad: the network sees the drawing, upright, and the page classifies it as Node does',
      { timeout: 30_000 },
      async () => {
        const page = await openPage(context, `${plain.url}?device=wasm`, errors);
        await page.evaluate(() => window.depthfold.ready);
        const box = await page.locator('#pad').boundingBox();
        assert.ok(box);
        // A pair of trousers: two legs joined at the waist.
        await page.mouse.move(box.x + 100, box.y + 40);
        await page.mouse.down();
        for (const [x, y] of [
          [180, 40],
          [190, 250],
          [155, 250],
          [140, 90],
          [125, 250],
          [90, 250],
          [100, 40],
        ] as const) {
          await page.mouse.move(box.x + x, box.y + y, { steps: 8 });
        }
        await page.mouse.up();
        await page.waitForFunction(() => document.querySelectorAll('#top li').length === 3);
        assert.match((await page.textContent('#latency')) ?? '', /^\d+(\.\d+)? ms$/);
        // What the network saw: the 28x28 preview, grey (R = G = B).
        const seen = await page.$eval('#preview', (canvas) => {
          const c = canvas as HTMLCanvasElement;
          return {
            width: c.width,
            height: c.height,
            rgba: Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data),
          };
        });
        const grey = Uint8Array.from({ length: seen.width * seen.height }, (_, i) => seen.rgba[4 * i]!);
        assert.ok(
          grey.every((v, i) => seen.rgba[4 * i + 1] === v && seen.rgba[4 * i + 2] === v),
          'the preview is grey',
        );
        // Upright, as drawn (not flipped, not transposed): the top inked row is the waist, one stroke; the bottom one
        // the two hems, apart.
        const inkRuns = (y: number): number => {
          let runs = 0;
          for (let x = 0; x < seen.width; x++)
            if (grey[y * seen.width + x]! > 64 && !(x > 0 && grey[y * seen.width + x - 1]! > 64)) runs++;
          return runs;
        };
        const inked = Array.from({ length: seen.height }, (_, y) => y).filter((y) => inkRuns(y) > 0);
        assert.ok(inked.length > seen.height / 2, `the drawing fills the preview's height: rows ${inked.join(', ')}`);
        assert.deepEqual([inkRuns(inked[0]!), inkRuns(inked[inked.length - 1]!)], [1, 2], 'one waist above two legs');
        // The page's answer is the model's answer on those pixels, as Node gives it (which class that is depends on
        // the model, not on the page).
        const [node] = await expectations(modelBytes, [grey]);
        const shown = await page.$$eval('#top li', (items) =>
          items.map((item) => Number(item.getAttribute('data-index'))),
        );
        assert.deepEqual(
          shown,
          node!.top.map((p) => p.index),
          `Node ranks the drawing ${node!.top.map((p) => p.label).join(', ')}`,
        );
        await screenshot(page, 'drawing');
        await page.close();
      },
    );
    await t.test(
      'an opened picture, dark on white, is inverted and classified as Node classifies the original',
      { timeout: 30_000 },
      async () => {
        const page = await openPage(context, `${plain.url}?device=wasm`, errors);
        await page.evaluate(() => window.depthfold.ready);
        // The image Node is surest of, inverted and scaled up 10x into a PNG, like a product photo on white: the page's
        // resampling back to 28x28 is close to, not exactly, the original.
        const surest = expected.reduce((a, b) => (b.top[0]!.probability > a.top[0]!.probability ? b : a));
        const png = await page.evaluate((pixels) => {
          const small = document.createElement('canvas');
          small.width = 28;
          small.height = 28;
          const image = new ImageData(28, 28);
          pixels.forEach((v, k) => image.data.set([255 - v, 255 - v, 255 - v, 255], 4 * k));
          small.getContext('2d')?.putImageData(image, 0, 0);
          const big = document.createElement('canvas');
          big.width = 280;
          big.height = 280;
          const ctx = big.getContext('2d');
          if (ctx) ctx.imageSmoothingEnabled = false;
          ctx?.drawImage(small, 0, 0, 280, 280);
          return big.toDataURL('image/png').replace(/^data:image\/png;base64,/, '');
        }, surest.pixels);
        await page.setInputFiles('#file', {
          name: 'garment.png',
          mimeType: 'image/png',
          buffer: Buffer.from(png, 'base64'),
        });
        await page.waitForFunction(() => document.querySelectorAll('#top li').length === 3);
        assert.equal(await page.textContent('#top li:first-child .name'), surest.top[0]!.label);
        await screenshot(page, 'opened-image');
        await page.close();
      },
    );

    assert.deepEqual(errors, [], 'no page errors');
  } finally {
    await context.close();
    await Promise.all([isolated.close(), plain.close()]);
    rmSync(profile, { recursive: true, force: true });
  }
});
