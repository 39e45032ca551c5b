// What the tests share: PIL as a reference (python3-pil, through pil-reference.py), temporary folders, Fashion-MNIST.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { requirement, type SkippableTest } from '@depthfold/testing';

export const PYTHON = '/usr/bin/python3';
const here = import.meta.dirname;

let pilFound: boolean | undefined;
/** Whether python3 with PIL runs here; without it the test skips (fails in CI), naming the Debian package. */
export function needsPil(t: SkippableTest): boolean {
  pilFound ??= spawnSync(PYTHON, ['-c', 'import PIL'], { stdio: 'ignore' }).status === 0;
  return requirement(t, pilFound, `no ${PYTHON} with PIL: install Debian's python3-pil`);
}

/** A fresh temporary folder and its removal. */
export function tempDir(prefix = 'depthfold-images-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs a Python script of this folder; throws with its stderr when it fails. */
export function runPython(script: string, args: string[], input?: string): string {
  const result = spawnSync(PYTHON, [join(here, script), ...args], { input, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (result.status !== 0) throw new Error(`${script} failed (${result.status}): ${result.stderr}`);
  return result.stdout;
}

/** One operation of pil-reference.py, with its input pixels given here and its output returned. */
export type PilOp =
  | {
      op: 'resize';
      mode: 'L' | 'RGB';
      width: number;
      height: number;
      pixels: Uint8Array;
      size: [number, number];
      crop?: [number, number, number, number];
      before?: boolean;
    }
  | { op: 'convert'; mode: 'RGB'; width: number; height: number; pixels: Uint8Array; to: 'L' }
  | { op: 'decode'; file: string };

/** What PIL gave for one operation. */
export interface PilResult {
  pixels: Uint8Array;
  width: number;
  height: number;
  mode?: string;
  channels?: number;
  bits?: number;
}

/** Runs operations through PIL (pil-reference.py), in one Python process. */
export function pil(ops: PilOp[]): PilResult[] {
  const { dir, cleanup } = tempDir('depthfold-pil-');
  try {
    const sent = ops.map((op, i) => {
      const output = join(dir, `${i}.out`);
      if (op.op === 'decode') return { ...op, output };
      const input = join(dir, `${i}.in`);
      writeFileSync(input, op.pixels);
      const { pixels: _, ...rest } = op;
      return { ...rest, input, output };
    });
    const results = JSON.parse(runPython('pil-reference.py', [], JSON.stringify(sent))) as Omit<PilResult, 'pixels'>[];
    return results.map((r, i) => ({ ...r, pixels: new Uint8Array(readFileSync(join(dir, `${i}.out`))) }));
  } finally {
    cleanup();
  }
}

/** The largest absolute difference between two arrays of samples, and how many differ. */
export function difference(a: ArrayLike<number>, b: ArrayLike<number>): { max: number; count: number } {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} and ${b.length}`);
  let max = 0;
  let count = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (d > max) max = d;
    if (d) count++;
  }
  return { max, count };
}

/** Fashion-MNIST's test images (Debian's dataset-fashion-mnist): image `index`, 28x28 grey. */
export function fashionImage(index: number): Uint8Array {
  const bytes = gunzipSync(readFileSync('/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz'));
  return bytes.subarray(16 + index * 784, 16 + (index + 1) * 784);
}

/** A photo-like RGB image: smooth gradients, a few hard edges and mild seeded noise. */
export function photoLike(width: number, height: number, seed = 1): Uint8Array {
  const out = new Uint8Array(width * height * 3);
  let s = seed >>> 0;
  const noise = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s >>> 24) / 255 - 0.5;
  };
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const u = x / width;
      const v = y / height;
      const disc = (u - 0.6) ** 2 + (v - 0.4) ** 2 < 0.04;
      const stripe = Math.floor(u * 12) % 2 === 0 && v > 0.7;
      const base = [255 * u, 255 * v, 255 * (1 - u * v)];
      const rgb = disc ? [230, 40, 30] : stripe ? [20, 20, 20] : base;
      for (let c = 0; c < 3; c++)
        out[(y * width + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(rgb[c]! + 12 * noise())));
    }
  return out;
}
