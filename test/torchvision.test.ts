// The cross-check against the reference implementation (issue 32, item 6): the same random weights loaded into
// torchvision's own resnet18 and resnet50 (standard stem, 3 channels, eval mode) and into depthfold's exported ONNX
// model give the same logits, within 1e-4, on Fashion-MNIST test images resized to 64 and 224 px. This proves that
// the resnet-imagenet family is torchvision's network, not merely consistent with itself.
// Test time (Huang et al. 2016, Eq. 3): H_l = ReLU(p_l * f_l(H_{l-1}) + shortcut(H_{l-1})); torchvision has no p_l, so
// tools/torchvision_logits.py scales the last batch norm of each branch by p_l, which is what the export folds.
// A control runs torchvision without that scaling and must miss by far more than the tolerance.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { encodeSafetensors, type Checkpoint, type Normalization } from '@depthfold/core';
import { load, normalizePixelsInPlace } from '@depthfold/infer';
import * as onnx from '@depthfold/onnx';
import { modelBytesOf, randomCheckpoint, requirement } from '@depthfold/testing';

const PYTHON = '/usr/bin/python3';
const SCRIPT = 'tools/torchvision_logits.py';
const FASHION_MNIST_TEST = '/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz';
const IMAGES = 4;
const SIZES = [64, 224] as const;
/** torchvision's default head: the reference is the stock network, not one trimmed to our datasets. */
const NUM_CLASSES = 1000;
/** ImageNet's statistics, as torchvision's weights use them: the three channels are normalised differently. */
const NORMALIZATION: Normalization = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
/** Of the largest |logit| of the batch, or absolute where that is below 1. */
const TOLERANCE = 1e-4;

const NETS = [
  { arch: 'resnet18', seed: 31 },
  { arch: 'resnet50', seed: 32 },
] as const;

const dir = mkdtempSync(join(tmpdir(), 'depthfold-torchvision-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The first `count` images of an IDX file of unsigned bytes, each height x width. */
function readIdxImages(path: string, count: number): { pixels: Uint8Array; height: number; width: number } {
  const data = gunzipSync(readFileSync(path));
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  assert.equal(view.getUint32(0), 0x00000803, `${path}: an IDX file of 3-d unsigned bytes`);
  const height = view.getUint32(8);
  const width = view.getUint32(12);
  return { pixels: data.subarray(16, 16 + count * height * width), height, width };
}

/**
 * A grey image resized bilinearly (pixel centres at half-integers, edges clamped: PyTorch's align_corners=False) and
 * replicated to three channels, CHW, raw pixel values 0..255 with fractions.
 */
function resizeToRgb(grey: Uint8Array, height: number, width: number, size: number): Float32Array {
  const plane = new Float32Array(size * size);
  const source = (v: number, n: number) => Math.min(Math.max((v + 0.5) * (n / size) - 0.5, 0), n - 1);
  for (let y = 0; y < size; y++) {
    const sy = source(y, height);
    const y0 = Math.floor(sy);
    const y1 = Math.min(y0 + 1, height - 1);
    const fy = sy - y0;
    for (let x = 0; x < size; x++) {
      const sx = source(x, width);
      const x0 = Math.floor(sx);
      const x1 = Math.min(x0 + 1, width - 1);
      const fx = sx - x0;
      const at = (yy: number, xx: number) => grey[yy * width + xx]!;
      const top = at(y0, x0) * (1 - fx) + at(y0, x1) * fx;
      const bottom = at(y1, x0) * (1 - fx) + at(y1, x1) * fx;
      plane[y * size + x] = top * (1 - fy) + bottom * fy;
    }
  }
  const rgb = new Float32Array(3 * size * size);
  for (let c = 0; c < 3; c++) rgb.set(plane, c * size * size);
  return rgb;
}

/** The largest |a - b| and the largest |b| over the logits of a batch. */
function compare(a: readonly Float32Array[], b: Float32Array): { maxDiff: number; maxLogit: number } {
  let maxDiff = 0;
  let maxLogit = 0;
  a.forEach((row, n) => {
    row.forEach((v, k) => {
      const want = b[n * NUM_CLASSES + k]!;
      maxDiff = Math.max(maxDiff, Math.abs(v - want));
      maxLogit = Math.max(maxLogit, Math.abs(want));
    });
  });
  return { maxDiff, maxLogit };
}

function pythonHasTorchvision(): boolean {
  return spawnSync(PYTHON, ['-c', 'import numpy, torch, torchvision'], { encoding: 'utf8' }).status === 0;
}

test('torchvision resnet18 and resnet50 with the same weights give the logits of the exported ONNX model', {
  timeout: 300_000,
}, async (t) => {
  if (!requirement(t, pythonHasTorchvision(), `no torchvision for ${PYTHON}: apt install python3-torchvision`)) return;
  const fashion = readIdxImages(FASHION_MNIST_TEST, IMAGES);
  const grey = (i: number) =>
    fashion.pixels.subarray(i * fashion.height * fashion.width, (i + 1) * fashion.height * fashion.width);

  for (const { arch, seed } of NETS) {
    await t.test(`${arch}: 64 and 224 px, ${IMAGES} Fashion-MNIST test images`, async (t) => {
      const small = randomCheckpoint({
        label: `${arch}-${SIZES[0]}`,
        arch,
        input: { height: SIZES[0], width: SIZES[0], channels: 3 },
        seed,
        numClasses: NUM_CLASSES,
        normalization: NORMALIZATION,
      });
      // One set of weights for every size: the checkpoints differ in their recorded input alone (no tensor's shape
      // depends on it), so torchvision reads one file.
      const checkpoints = new Map<number, Checkpoint>(
        SIZES.map((size) => {
          const architecture = { ...small.info.architecture, input: { height: size, width: size, channels: 3 } };
          return [size, { ...small, info: { ...small.info, architecture } }];
        }),
      );
      const probs = small.info.schedule.survivalProbs;
      assert.ok(Math.min(...probs) < 0.6, 'linear survival with p_L = 0.5: the p_l scaling is exercised');
      const weights = join(dir, `${arch}.safetensors`);
      writeFileSync(weights, encodeSafetensors(small.params, {}));

      // ONNX Runtime through @depthfold/infer on raw pixels; torchvision on the very floats infer feeds the graph.
      const ours = new Map<number, Float32Array[]>();
      const runs = [];
      for (const size of SIZES) {
        const images = Array.from({ length: IMAGES }, (_, i) =>
          resizeToRgb(grey(i), fashion.height, fashion.width, size),
        );
        const classifier = await load(modelBytesOf(onnx, checkpoints.get(size)!));
        assert.deepEqual(classifier.info.input, { height: size, width: size, channels: 3 });
        ours.set(size, await classifier.logits(images, { layout: 'CHW' }));
        const batch = new Float32Array(IMAGES * 3 * size * size);
        images.forEach((image, i) => batch.set(image, i * image.length));
        const input = join(dir, `${arch}-${size}.f32`);
        writeFileSync(input, normalizePixelsInPlace(batch, classifier.info.input, NORMALIZATION));
        for (const scale of [true, false]) {
          const output = join(dir, `${arch}-${size}-${scale ? 'scaled' : 'plain'}.logits.f32`);
          runs.push({ size, scale, input, output, shape: [IMAGES, 3, size, size], scale_branches: scale });
        }
      }
      const job = join(dir, `${arch}.json`);
      writeFileSync(
        job,
        JSON.stringify({ arch, num_classes: NUM_CLASSES, weights, survival_probs: probs, threads: 2, runs }),
      );
      const r = spawnSync(PYTHON, [SCRIPT, job], { encoding: 'utf8', timeout: 240_000 });
      assert.equal(r.status, 0, r.stderr);
      const info = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { tensors: number; torchvision_version: string };
      assert.equal(info.tensors, small.params.size, 'every checkpoint tensor has its torchvision place');

      for (const run of runs) {
        const theirs = new Float32Array(readFileSync(run.output).buffer.slice(0));
        assert.equal(theirs.length, IMAGES * NUM_CLASSES);
        const { maxDiff, maxLogit } = compare(ours.get(run.size)!, theirs);
        const figure = `${arch} ${run.size} px, torchvision ${info.torchvision_version}${run.scale ? '' : ' without the p_l scaling (control)'}: max |logit difference| ${maxDiff.toExponential(2)}, max |logit| ${maxLogit.toFixed(2)}, relative ${(maxDiff / maxLogit).toExponential(2)}`;
        t.diagnostic(figure);
        // Random weights with batch-norm statistics that no data produced let the residual stream grow through 16
        // bottlenecks (|logits| in the thousands), where float32 itself resolves ~1e-4: the tolerance is relative.
        const bound = TOLERANCE * Math.max(1, maxLogit);
        if (run.scale) assert.ok(maxDiff < bound, `${figure}: above ${bound.toExponential(2)}`);
        // The control: the comparison does fail when the networks differ in p_l alone.
        else assert.ok(maxDiff > 100 * bound, `${figure}: the control should miss by more than ${100 * bound}`);
      }
    });
  }
});
