// A model repository for the server tests, written as `pnpm export --triton` writes one (and a lone .onnx file beside
// it): `small`, a random ResNet-8 on 28x28x1 in Triton's layout; `wide`, a random ResNet-8 on 32x32x3 as `wide.onnx`
// (the second size); `broken`, Triton's layout around a file whose weights changed after export (its digest no
// longer matches). Seeded checkpoints from @depthfold/testing, no training.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Checkpoint } from '@depthfold/core';
import * as onnx from '@depthfold/onnx';
import { writeTritonRepository } from '@depthfold/onnx/node';
import { CASES, metadataFor, modelBytesOf, randomCheckpoint } from '@depthfold/testing';

/** The models of the fixture repository. */
export const SMALL = 'small';
export const WIDE = 'wide';
export const BROKEN = 'broken';

/** Values per image of each model. */
export const SMALL_SIZE = 28 * 28;
export const WIDE_SIZE = 3 * 32 * 32;

/** A checkpoint of the 28x28x1 case; another seed gives another version of the same model. */
export function smallCheckpoint(seed = CASES[0]!.seed): Checkpoint {
  return randomCheckpoint({ ...CASES[0]!, seed });
}

/** Writes `checkpoint` as `name` in Triton's layout (config.pbtxt, labels.txt, 1/model.onnx), as export does. */
export async function writeTritonModel(
  root: string,
  name: string,
  checkpoint: Checkpoint,
  config: { maxBatchSize?: number; maxQueueDelayMicroseconds?: number } = {
    maxBatchSize: 8,
    maxQueueDelayMicroseconds: 2000,
  },
): Promise<string> {
  await writeTritonRepository(root, name, modelBytesOf(onnx, checkpoint), metadataFor(onnx, checkpoint, true), config);
  return join(root, name, '1', 'model.onnx');
}

/** Adds `checkpoint` as version `version` of `name` (its `<version>/model.onnx`), beside the versions there. */
export async function addVersion(root: string, name: string, checkpoint: Checkpoint, version: string): Promise<void> {
  await mkdir(join(root, name, version), { recursive: true });
  // Written whole under another name, then renamed: a poll never sees half a file.
  const path = join(root, name, version, 'model.onnx');
  await writeFile(`${path}.tmp`, modelBytesOf(onnx, checkpoint));
  await rename(`${path}.tmp`, path);
}

/** A fresh repository folder with `small`, `wide` and `broken`, and a function that removes it. */
export async function fixtureRepository(): Promise<{ root: string; cleanup: () => void }> {
  const root = mkdtempSync(join(tmpdir(), 'depthfold-repository-'));
  await writeTritonModel(root, SMALL, smallCheckpoint());
  writeFileSync(join(root, `${WIDE}.onnx`), modelBytesOf(onnx, randomCheckpoint(CASES[1]!)));
  const brokenPath = await writeTritonModel(root, BROKEN, randomCheckpoint({ ...CASES[0]!, seed: 77 }));
  // One weight byte changed after export (the weights fill the middle of the file; the metadata is at its end): still
  // valid ONNX, but no longer what the digest covers.
  const bytes = readFileSync(brokenPath);
  const at = Math.floor(bytes.length / 2);
  bytes[at] = bytes[at]! ^ 0x40;
  writeFileSync(brokenPath, bytes);
  return { root, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** Seeded normalised input of `count` images of `size` values. */
export function inputOf(count: number, size: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: count * size }, () => {
    s = (s * 1103515245 + 12345) >>> 0;
    return (s / 2 ** 32 - 0.5) * 4;
  });
}

/** An FP32 request body for `count` images of a model with input `[channels, height, width]`. */
export function requestFor(data: Float32Array, dims: readonly number[], extra: Record<string, unknown> = {}): unknown {
  const size = dims.reduce((a, b) => a * b, 1);
  return {
    inputs: [{ name: 'input', shape: [data.length / size, ...dims], datatype: 'FP32', data: Array.from(data) }],
    ...extra,
  };
}
