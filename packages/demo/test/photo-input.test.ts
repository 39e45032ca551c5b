// Photos of any size, the same in training, Node and the browser. Part of Fashion-MNIST's test set is written out as a
// user's folder (packages/images/test/make-fashion-folder.py: 64x64 PNG and JPEG, RGB, grey and RGBA), then every
// file is given to two models that resize ('stretch'): the shipped ResNet-20 (trained, 28x28 grey) with its recorded
// preprocessing turned to 'stretch', and a seeded random ResNet-8 on 32x32 RGB whose alpha goes onto white. Each file
// takes three paths to the logits:
//   training: the decode cache that training reads (sharp in a worker, then preprocessImage), as bare pixels;
//   node:     @depthfold/infer in Node from the encoded file (a path);
//   browser:  the built demo in Chromium (playwright-core, Debian's chromium), the file fetched as a Blob and given to
//             @depthfold/infer's web entry (createImageBitmap, then the same preprocessImage), on WebAssembly.
// Top-1 must agree on at least 99.5% of the images for each pair; the largest logit and input differences are
// printed. Then a photo of another size and aspect ratio is dropped on the page (a DataTransfer on the drawing pad)
// and opened (the file input): the page shows what the network sees and the classes Node finds for the same file.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DATASET_LABELS, type Preprocessing, SHIPPED_MODEL } from '@depthfold/core';
import { DecodeCache, scanImageFolder, splitImageFolder } from '@depthfold/images/node';
import { load, type Classifier } from '@depthfold/infer/node';
import * as onnx from '@depthfold/onnx';
import { modelBytesOf, randomCheckpoint, requirement } from '@depthfold/testing';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { DemoInspection } from '../src/demo-api.js';
import { serveStatic } from './static-server.js';

const packageDir = dirname(dirname(fileURLToPath(import.meta.url)));
const repo = resolve(packageDir, '..', '..');
const dist = join(packageDir, 'dist');
const artifacts = join(repo, 'test-artifacts');
const CHROMIUM = '/usr/bin/chromium';
const PYTHON = '/usr/bin/python3';
const MAKE_FOLDER = join(repo, 'packages', 'images', 'test', 'make-fashion-folder.py');
/**
 * Test images per class, over Fashion-MNIST's 10 classes. DEPTHFOLD_AGREEMENT_PER_CLASS raises it and
 * DEPTHFOLD_AGREEMENT_MODELS (comma-separated .onnx paths, e.g. a model trained with `--dataset folder`) adds models,
 * to measure the agreement of one's own models on more images than CI takes.
 */
const PER_CLASS = Number(process.env.DEPTHFOLD_AGREEMENT_PER_CLASS ?? 30);
if (!Number.isInteger(PER_CLASS) || PER_CLASS < 1)
  throw new Error(
    `DEPTHFOLD_AGREEMENT_PER_CLASS: expected a whole number of images per class >= 1, received ${JSON.stringify(process.env.DEPTHFOLD_AGREEMENT_PER_CLASS)}`,
  );
const EXTRA_MODELS = (process.env.DEPTHFOLD_AGREEMENT_MODELS ?? '').split(',').filter(Boolean);
/** make-fashion-folder.py's folder of each Fashion-MNIST label, by label: the label with `/` and spaces as `_`. */
const FOLDER_NAMES = DATASET_LABELS['fashion-mnist'].map((label) => label.replace(/[/ ]/g, '_'));
/** The least share of images whose top-1 class two paths must agree on. */
const AGREEMENT = 0.995;

const STRETCH_GREY: Preprocessing = {
  resize: 'stretch',
  interpolation: 'bilinear',
  cropFraction: 1,
  colour: 'grey',
  background: [0, 0, 0],
};
const STRETCH_RGB: Preprocessing = { ...STRETCH_GREY, colour: 'rgb', background: [255, 255, 255] };

/**
 * `bytes` with another preprocessing in its metadata, written in the current format (a format-1 model, as the
 * shipped one, reads as 'exact'); the digest covers the graph and weights only, so it still holds.
 */
function withPreprocessing(bytes: Uint8Array, preprocessing: Preprocessing): Uint8Array {
  const metadata = onnx.readModelMetadata(bytes, 'model');
  const model = onnx.decodeModelProto(bytes);
  const props = onnx.metadataToProps({ ...metadata, input: { ...metadata.input, preprocessing } });
  return onnx.encodeModelProto({ ...model, metadata_props: props });
}

/** The models under test, by the file name the page loads them from. */
function models(): Record<string, Uint8Array> {
  const trained = withPreprocessing(new Uint8Array(readFileSync(join(repo, SHIPPED_MODEL))), STRETCH_GREY);
  const checkpoint = randomCheckpoint({
    label: 'resnet8-32x32x3',
    arch: 'resnet8',
    input: { height: 32, width: 32, channels: 3 },
    seed: 33,
  });
  const random = modelBytesOf(onnx, { ...checkpoint, info: { ...checkpoint.info, preprocessing: STRETCH_RGB } });
  const extra = EXTRA_MODELS.map((path) => [path.replace(/^.*\//, ''), new Uint8Array(readFileSync(path))] as const);
  return {
    'resnet20-fashion-stretch.onnx': trained,
    'resnet8-random-rgb-stretch.onnx': random,
    ...Object.fromEntries(extra),
  };
}

const argmax = (row: ArrayLike<number>): number => {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
};

/** Top-1 agreement and the largest logit and input differences between two paths over the same images. */
interface Agreement {
  agree: number;
  total: number;
  logits: number;
  input: number;
}

function agreement(
  a: { logits: ArrayLike<number>[]; inputs: ArrayLike<number>[] },
  b: { logits: ArrayLike<number>[]; inputs: ArrayLike<number>[] },
): Agreement {
  let agree = 0;
  let logits = 0;
  let input = 0;
  a.logits.forEach((row, i) => {
    const other = b.logits[i]!;
    if (argmax(row) === argmax(other)) agree++;
    for (let j = 0; j < row.length; j++) logits = Math.max(logits, Math.abs(row[j]! - other[j]!));
    const [x, y] = [a.inputs[i]!, b.inputs[i]!];
    assert.equal(x.length, y.length);
    for (let j = 0; j < x.length; j++) input = Math.max(input, Math.abs(x[j]! - y[j]!));
  });
  return { agree, total: a.logits.length, logits, input };
}

async function openPage(context: BrowserContext, url: string, errors: string[]): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(url);
  await page.evaluate(() => window.depthfold.ready);
  return page;
}

/** What the page shows as the network's input: the preview canvas's pixels, one channel where they are grey. */
async function shownInput(page: Page, channels: number): Promise<number[]> {
  const rgba = await page.$eval('#preview', (canvas) => {
    const c = canvas as HTMLCanvasElement;
    return Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data);
  });
  const out: number[] = [];
  for (let k = 0; k < rgba.length / 4; k++) for (let c = 0; c < channels; c++) out.push(rgba[4 * k + c]!);
  return out;
}

const shownTop = (page: Page): Promise<number[]> =>
  page.$$eval('#top li', (items) => items.map((item) => Number(item.getAttribute('data-index'))));

test('photos of any size: training, Node and the browser resize alike and agree', {
  timeout: 420_000,
}, async (t: TestContext) => {
  if (!requirement(t, existsSync(CHROMIUM), `no ${CHROMIUM}: install Debian's chromium to run the browser tests`))
    return;
  const pil = spawnSync(PYTHON, ['-c', 'import PIL'], { stdio: 'ignore' }).status === 0;
  if (!requirement(t, pil, `no ${PYTHON} with PIL: install Debian's python3-pil`)) return;
  assert.ok(existsSync(join(dist, 'index.html')), 'the demo is built (pnpm test:browser builds it)');

  const work = mkdtempSync(join(tmpdir(), 'depthfold-photos-'));
  const root = join(work, 'fashion');
  const modelDir = join(work, 'models');
  mkdirSync(modelDir);
  const made = spawnSync(
    PYTHON,
    [MAKE_FOLDER, root, '--per-class', String(PER_CLASS), '--classes', '0,1,2,3,4,5,6,7,8,9'],
    { encoding: 'utf8', maxBuffer: 1 << 24 },
  );
  assert.equal(made.status, 0, made.stderr);
  const manifest = JSON.parse(made.stdout) as { path: string; class: string; variant: string }[];
  assert.equal(manifest.length, 10 * PER_CLASS);
  const description = splitImageFolder(await scanImageFolder(root), { seed: 0 });
  const files = description.files;
  assert.equal(files.length, manifest.length);
  const all = Object.entries(models());
  for (const [name, bytes] of all) writeFileSync(join(modelDir, name), bytes);

  const server = await serveStatic(dist, false, { photos: root, extra: modelDir });
  const profile = mkdtempSync(join(tmpdir(), 'depthfold-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
    viewport: { width: 1000, height: 640 },
  });
  const errors: string[] = [];
  const classifiers: Classifier[] = [];
  try {
    for (const [name, bytes] of all) {
      await t.test(`${name}: ${files.length} files, top-1 agrees on >= ${AGREEMENT * 100}% for each pair`, async () => {
        const node = await load(bytes, { device: 'cpu' });
        classifiers.push(node);
        const { input, preprocessing } = node.info;

        // Training's path: the decode cache, filled by a worker thread, read as the loader reads it.
        const cache = await DecodeCache.open({ dir: join(work, 'cache'), preprocessing, size: input });
        const filled = await cache.fill(description, { threads: 1 });
        assert.deepEqual(filled.bad, []);
        const trainingInputs = await Promise.all(files.map((f) => cache.read(root, f)));
        const training = { inputs: trainingInputs, logits: await node.logits(trainingInputs) };

        // Node from the encoded files.
        const paths = files.map((f) => join(root, f.path));
        const nodePath = { inputs: await node.preprocess(paths), logits: await node.logits(paths) };

        // The browser, from the same files.
        const page = await openPage(context, `${server.url}?device=wasm&model=extra/${name}`, errors);
        const seen: DemoInspection[] = [];
        for (let start = 0; start < files.length; start += 100) {
          const urls = files.slice(start, start + 100).map((f) => `photos/${f.path}`);
          seen.push(...(await page.evaluate((u) => window.depthfold.inspect(u), urls)));
        }
        await page.close();
        const browser = { inputs: seen.map((s) => s.input), logits: seen.map((s) => s.logits) };

        const pairs = {
          'training-node': agreement(training, nodePath),
          'training-browser': agreement(training, browser),
          'node-browser': agreement(nodePath, browser),
        };
        // The folders are the classes' names. A model trained on such a folder has them as its labels; the others
        // are Fashion-MNIST's, whose class index is the label's number.
        const classOf = (folder: string): number =>
          node.info.labels.includes(folder) ? node.info.labels.indexOf(folder) : FOLDER_NAMES.indexOf(folder);
        const labels = files.map((f) => classOf(f.path.split('/')[0]!));
        const accuracy = nodePath.logits.filter((row, i) => argmax(row) === labels[i]).length / files.length;
        console.log(
          `${name} (${input.width}x${input.height}, ${preprocessing.colour}), ${files.length} images, Node top-1 accuracy ${(accuracy * 100).toFixed(1)}%`,
        );
        for (const [pair, a] of Object.entries(pairs)) {
          console.log(
            `  ${pair}: top-1 agrees on ${a.agree}/${a.total} (${((100 * a.agree) / a.total).toFixed(1)}%), largest logit difference ${a.logits.toExponential(2)}, largest input difference ${a.input} level(s)`,
          );
          assert.ok(a.agree >= AGREEMENT * a.total, `${pair}: ${a.agree} of ${a.total}`);
        }
        // Training and Node run the same decoder and the same arithmetic: the same bytes, the same logits.
        assert.equal(pairs['training-node'].input, 0);
        assert.equal(pairs['training-node'].logits, 0);
        // The browser decodes with its own libraries: PNGs alike, JPEGs within a few levels.
        assert.ok(pairs['node-browser'].input <= 8, `browser input within 8 levels: ${pairs['node-browser'].input}`);
        const pngs = files.map((f, i) => (f.path.endsWith('.png') ? i : -1)).filter((i) => i >= 0);
        for (const i of pngs) assert.deepEqual(browser.inputs[i], Array.from(nodePath.inputs[i]!), files[i]!.path);
        if (name.startsWith('resnet20')) assert.ok(accuracy > 0.7, `the trained model classifies: ${accuracy}`);
        else assert.ok(new Set(nodePath.logits.map(argmax)).size >= 2, 'the random model answers several classes');
      });
    }

    await t.test('a photo dropped on the page, and one opened, show the input and the classes Node finds', async () => {
      const [name, bytes] = all[0]!;
      const node = classifiers[0] ?? (await load(bytes, { device: 'cpu' }));
      const { width, height, channels } = node.info.input;
      // A wide lossless WebP and a tall JPEG, of sizes and aspect ratios unlike the folder's, from one of its files.
      const source = join(root, manifest.find((m) => m.variant === 'png-rgb' && m.class === 'Trouser')!.path);
      const webp = join(work, 'trousers.webp');
      const jpeg = join(work, 'trousers.jpg');
      const script = `from PIL import Image; im = Image.open(${JSON.stringify(source)}).convert('RGB')
im.resize((300, 200), Image.BICUBIC).save(${JSON.stringify(webp)}, lossless=True)
im.resize((257, 311), Image.BICUBIC).save(${JSON.stringify(jpeg)}, quality=92)`;
      const written = spawnSync(PYTHON, ['-c', script], { encoding: 'utf8' });
      assert.equal(written.status, 0, written.stderr);

      const page = await openPage(context, `${server.url}?device=wasm&model=extra/${name}`, errors);
      assert.match((await page.textContent('#input-description')) ?? '', /stretched to 28x28 \(bilinear\), in grey/);
      assert.match((await page.textContent('#labels')) ?? '', /^Classes: T-shirt\/top, Trouser, /);
      const dropped = readFileSync(webp);
      await page.click('#clear');
      await page.evaluate(
        ({ data }) => {
          const transfer = new DataTransfer();
          transfer.items.add(new File([new Uint8Array(data)], 'trousers.webp', { type: 'image/webp' }));
          const drop = new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true });
          document.getElementById('pad')!.dispatchEvent(drop);
        },
        { data: Array.from(dropped) },
      );
      await page.waitForFunction(() => document.querySelector('#status')?.textContent?.startsWith('trousers.webp'));
      assert.match((await page.textContent('#status')) ?? '', /^trousers\.webp: classified as the network sees it/);
      const preview = await page.$eval('#preview', (c) => [
        (c as HTMLCanvasElement).width,
        (c as HTMLCanvasElement).height,
      ]);
      assert.deepEqual(preview, [width, height], 'the preview is the input size');
      // Lossless: the browser decodes the pixels sharp decodes, and the same arithmetic makes the same input.
      const [expected] = await node.preprocess(webp);
      assert.deepEqual(await shownInput(page, channels), Array.from(expected!));
      const [nodeTop] = await node.classify(webp, { topK: 3 });
      assert.deepEqual(
        await shownTop(page),
        nodeTop!.top.map((p) => p.index),
      );
      mkdirSync(artifacts, { recursive: true });
      await page.screenshot({ path: join(artifacts, 'demo-dropped-photo.png') });

      // The file input, with a JPEG: JPEG decoders differ by a few levels; the top class is Node's.
      await page.click('#clear');
      await page.setInputFiles('#file', jpeg);
      await page.waitForFunction(() => document.querySelectorAll('#top li').length === 3);
      const [jpegExpected] = await node.preprocess(jpeg);
      const shown = await shownInput(page, channels);
      const worst = shown.reduce((m, v, i) => Math.max(m, Math.abs(v - jpegExpected![i]!)), 0);
      assert.ok(worst <= 8, `the JPEG's input within 8 levels of Node's: ${worst}`);
      const [jpegTop] = await node.classify(jpeg, { topK: 1 });
      assert.equal((await shownTop(page))[0], jpegTop!.top[0]!.index);

      // A file that is no image: the page says which file and why.
      await page.setInputFiles('#file', { name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('not a PNG') });
      await page.waitForFunction(() => document.querySelector('#status')?.classList.contains('error'));
      assert.match(
        (await page.textContent('#status')) ?? '',
        /^images\[0\] \(notes\.png\): not an image this browser decodes, or corrupt \(image\/png, 9 bytes\): /,
      );
      await page.close();
    });
    assert.deepEqual(errors, [], 'no page errors');
  } finally {
    await Promise.all(classifiers.map((c) => c.dispose()));
    await context.close();
    await server.close();
    rmSync(profile, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }
});
