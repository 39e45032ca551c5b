// Images of any kind and size in Node: a path, encoded bytes `{ encoded }` and a raw image of any size go through the
// model's recorded preprocessing (@depthfold/images' preprocessImage, computed here as the reference) and classify
// as those pixels do; encoded bytes are never read as pixels; every bad image is an error naming it (index, file,
// reason); a missing sharp fails the calls that decode, alone.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { decodeCount, preprocessImage, to8Bit, type RawImage } from '@depthfold/images/node';
import { InferImageError, InferInputError, load, type Classifier } from '../src/index.js';
import { fixtureModelBytes, INPUT, resizingModelBytes, STRETCH } from './fixtures.js';
import { encodePng } from '@depthfold/testing';
import { failsWith, hwcToChw, randomImage, randomSamples } from './helpers.js';

const SIZE = { height: INPUT.height, width: INPUT.width };
const dir = mkdtempSync(join(tmpdir(), 'depthfold-infer-images-'));
let stretch: Classifier;
let exact: Classifier;

/** A seeded random RGBA photo of 13x11: translucent, of another size and aspect ratio than the input. */
const photo: RawImage = { width: 13, height: 11, channels: 4, data: randomSamples(13 * 11 * 4, 5) };
const photoPng = encodePng(photo.width, photo.height, 4, photo.data as Uint8Array);
const photoPath = join(dir, 'photo.png');

before(async () => {
  writeFileSync(photoPath, photoPng);
  stretch = await load(resizingModelBytes());
  exact = await load(fixtureModelBytes());
});
after(async () => {
  await stretch.dispose();
  await exact.dispose();
  rmSync(dir, { recursive: true, force: true });
});

test('a path, encoded bytes and a raw image of any size are preprocessed as training does, then classified', async () => {
  assert.deepEqual(stretch.info.preprocessing, STRETCH, 'the model records its preprocessing');
  const expected = preprocessImage(photo, STRETCH, SIZE).data;
  const sources = [photoPath, { encoded: photoPng, name: 'photo.png' }, { encoded: Buffer.from(photoPng) }, photo];
  for (const input of await stretch.preprocess(sources)) assert.deepEqual(input, expected);
  const [chw] = await stretch.preprocess(photoPath, { layout: 'CHW' });
  assert.deepEqual(chw, hwcToChw(expected));
  // The network's answer on those pixels, to the bit, whatever form the image came in.
  const [reference] = await stretch.logits(expected);
  for (const row of await stretch.logits(sources)) assert.deepEqual(row, reference);
  const [top] = await stretch.classify(photoPath, { topK: 2 });
  const [direct] = await stretch.classify(expected, { topK: 2 });
  assert.deepEqual(top, direct);
});

test('a batch mixes bare pixels (in the layout option) with images; 16-bit and grey images convert first', async () => {
  const pixels = randomImage(3);
  const grey16: RawImage = {
    width: 7,
    height: 9,
    channels: 1,
    data: Uint16Array.from(randomSamples(63, 8), (v, i) => v * 257 + (i % 3)),
  };
  const logits = await stretch.logits([hwcToChw(pixels), grey16, photoPath], { layout: 'CHW' });
  const expected = await stretch.logits([pixels, preprocessImage(to8Bit(grey16), STRETCH, SIZE).data, photo]);
  assert.deepEqual(logits, expected);
});

test('encoded bytes are never read as pixels, even bytes of exactly the pixel count; bare bytes always are', async () => {
  // A 2x1 PNG padded to 90 bytes, the 6x5x3 input's pixel count.
  const grey = Uint8Array.from([0, 255]);
  let png = encodePng(2, 1, 1, grey, '');
  png = encodePng(2, 1, 1, grey, 'x'.repeat(90 - png.length));
  assert.equal(png.length, INPUT.height * INPUT.width * INPUT.channels);
  const [decoded] = await stretch.preprocess({ encoded: png });
  assert.deepEqual(decoded, preprocessImage({ width: 2, height: 1, channels: 1, data: grey }, STRETCH, SIZE).data);
  const [asPixels] = await stretch.preprocess(png);
  assert.equal(asPixels, png, 'a bare Uint8Array is pixels, by its type');
  assert.notDeepEqual(await stretch.logits({ encoded: png }), await stretch.logits(png));
  // Bytes of another length are refused as pixels, with a hint when they start like an image file.
  await assert.rejects(
    stretch.classify([randomImage(1), photoPng]),
    failsWith(
      InferInputError,
      new RegExp(
        `^images\\[1\\]: expected 90 pixel values \\(HWC 6x5x3\\); these bytes start like a PNG file: pass encoded images as \\{ encoded: bytes \\}, received ${photoPng.length}$`,
      ),
    ),
  );
});

test('an image that does not decode names its index, its file and the reason', async () => {
  const truncated = join(dir, 'truncated.png');
  writeFileSync(truncated, photoPng.subarray(0, 60));
  const text = join(dir, 'notes.jpg');
  writeFileSync(text, 'not an image at all');
  const cases: [unknown, number, string | undefined, InferImageError['failure'], RegExp][] = [
    [truncated, 1, truncated, 'corrupt', /^images\[1\] \(.*truncated\.png\): corrupt or truncated PNG: /],
    [text, 1, text, 'unsupported', /^images\[1\] \(.*notes\.jpg\): not a PNG, JPEG, WebP, GIF or TIFF image/],
    [join(dir, 'missing.png'), 1, join(dir, 'missing.png'), 'unreadable', /cannot read the file \(ENOENT\)$/],
    [{ encoded: new Uint8Array(0), name: 'empty.png' }, 1, 'empty.png', 'empty', /^images\[1\] \(empty\.png\): empty/],
    [{ encoded: photoPng.subarray(0, 40) }, 1, undefined, 'corrupt', /^images\[1\]: corrupt/],
  ];
  for (const [bad, index, file, failure, message] of cases) {
    await assert.rejects(stretch.classify([photoPath, bad as string]), (error: unknown) => {
      assert.ok(error instanceof InferImageError, String(error));
      assert.ok(error instanceof InferInputError);
      assert.deepEqual([error.index, error.file, error.failure], [index, file, failure]);
      assert.match(error.message, message);
      assert.doesNotMatch(error.message, /\n/);
      return true;
    });
  }
});

test('every image is checked before any is decoded; a wrong kind or shape names the image', async () => {
  const before = decodeCount();
  const bad: [unknown, RegExp][] = [
    [
      { encoded: 'photo.png' },
      /^images\[1\]\.encoded: expected a Uint8Array \(or Buffer\) of an encoded image file, received "string"$/,
    ],
    [
      { ...photo, channels: 5 },
      /^images\[1\]\.channels: expected 1 \(grey\), 2 \(grey \+ alpha\), 3 \(RGB\) or 4 \(RGBA\), received 5$/,
    ],
    [
      { ...photo, data: photo.data.subarray(1) },
      /^images\[1\]\.data\.length: expected 572 samples \(11 x 13 x 4, HWC\), received 571$/,
    ],
    [{ ...photo, width: 0 }, /^images\[1\]\.width: expected a positive integer, received 0$/],
    [
      new Int16Array(90),
      /^images\[1\]: expected a Uint8Array or Float32Array of raw pixels, a raw image \{ width, height, channels, data \}, a path \(string\) or encoded bytes \{ encoded: Uint8Array \}, received "Int16Array\(90\)"$/,
    ],
    [new Blob([photoPng]), /^images\[1\]: expected .*, received "Blob"$/],
  ];
  for (const [image, message] of bad) {
    await assert.rejects(
      stretch.classify([photoPath, image as string, photoPath]),
      failsWith(InferInputError, message),
    );
  }
  assert.equal(decodeCount(), before, 'nothing was decoded');
});

test("a model whose resize is 'exact' takes images of its input size only", async () => {
  const same: RawImage = { width: 5, height: 6, channels: 3, data: randomImage(4) };
  const png = encodePng(5, 6, 3, randomImage(4));
  assert.deepEqual(await exact.logits([same, { encoded: png }]), await exact.logits([randomImage(4), randomImage(4)]));
  await assert.rejects(
    exact.classify([same, photoPath]),
    failsWith(
      InferInputError,
      /^images\[1\]: expected an image of 5x6 \(width x height\): the model's preprocessing is resize 'exact', which resizes nothing, received "13x11"$/,
    ),
  );
});

test('without sharp, only the calls that decode fail, saying how to install it', () => {
  // A loader hook that hides sharp, as on a machine where it is not installed (as packages/images' tests do).
  const hooks = join(dir, 'no-sharp-hooks.mjs');
  writeFileSync(
    hooks,
    `export async function resolve(specifier, context, next) {
  if (specifier === 'sharp') { const e = new Error("Cannot find package 'sharp'"); e.code = 'ERR_MODULE_NOT_FOUND'; throw e; }
  return next(specifier, context);
}\n`,
  );
  const register = join(dir, 'register.mjs');
  writeFileSync(register, `import { register } from 'node:module'; register(${JSON.stringify(`file://${hooks}`)});\n`);
  const model = join(dir, 'stretch.onnx');
  writeFileSync(model, resizingModelBytes());
  const script = `
import { load } from ${JSON.stringify(new URL('../src/node/index.ts', import.meta.url).href)};
const c = await load(${JSON.stringify(model)});
const errors = [];
for (const image of [${JSON.stringify(photoPath)}, { encoded: new Uint8Array(${JSON.stringify(Array.from(photoPng))}) }]) {
  try { await c.classify(image); errors.push('no error'); } catch (e) { errors.push(e.message); }
}
const raw = await c.logits({ width: 2, height: 2, channels: 1, data: new Uint8Array([0, 100, 200, 255]) });
const pixels = await c.logits(new Uint8Array(90));
console.log(JSON.stringify({ errors, raw: raw[0].length, pixels: pixels[0].length }));
await c.dispose();
`;
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--import', register, '--input-type=module', '-e', script],
    { encoding: 'utf8', cwd: new URL('..', import.meta.url).pathname },
  );
  assert.equal(result.status, 0, result.stderr);
  const out = JSON.parse(result.stdout) as { errors: string[]; raw: number; pixels: number };
  assert.equal(out.errors.length, 2);
  for (const message of out.errors)
    assert.match(
      message,
      /needs sharp, which could not be loaded \(Cannot find package 'sharp'\); install it with `pnpm add sharp`/,
    );
  assert.deepEqual([out.raw, out.pixels], [10, 10], 'raw images and pixels classify in the same process');
});
