// The filter gradient of a strided 1x1 convolution with few input channels: oneDNN 2.6's jit 1x1 kernels write past
// their scratch buffer there (uxlfoundation/oneDNN#6035), which corrupted the heap of the train package's conv2d
// tests now and then (`free(): invalid size`). The calls run in a child process with glibc's heap checks on
// (MALLOC_CHECK_=3 aborts at the first corrupt chunk it meets), many times over, and the gradient must equal a
// plain-JS sum. With 16 input channels or more (ResNet-50's projections), the jit kernels run on the NHWC tensors
// themselves, where the bug cannot reach: those cases are checked the same way, and in bf16 where it runs.
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { onednnBf16Support } from '../src/index.js';
import { loadBinding } from '../src/native.js';
import { skipUnlessOnednn } from './availability.js';

/** A strided 1x1 convolution (no padding) of [n, h, w, ci] into co channels. */
interface Pointwise {
  n: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  stride: number;
}

const outSize = (size: number, stride: number): number => Math.floor((size - 1) / stride) + 1;

/** The addon's 17-integer geometry of `c`. */
function geometry(c: Pointwise): number[] {
  const [oh, ow] = [outSize(c.h, c.stride), outSize(c.w, c.stride)];
  return [c.n, c.h, c.w, c.ci, oh, ow, c.co, 1, 1, c.stride, c.stride, 1, 1, 0, 0, 0, 0];
}

/** df[ci][co] = sum over n, oh, ow of x[n, oh*s, ow*s, ci] * dy[n, oh, ow, co] (HWIO with a 1x1 window). */
function referenceGrad(c: Pointwise, x: Float32Array, dy: Float32Array): Float64Array {
  const [oh, ow] = [outSize(c.h, c.stride), outSize(c.w, c.stride)];
  const df = new Float64Array(c.ci * c.co);
  for (let n = 0; n < c.n; n++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        const xAt = ((n * c.h + i * c.stride) * c.w + j * c.stride) * c.ci;
        const dyAt = ((n * oh + i) * ow + j) * c.co;
        for (let a = 0; a < c.ci; a++) {
          for (let b = 0; b < c.co; b++) df[a * c.co + b]! += x[xAt + a]! * dy[dyAt + b]!;
        }
      }
    }
  }
  return df;
}

const filled = (length: number, seed: number): Float32Array =>
  Float32Array.from({ length }, (_, i) => Math.sin(seed * 12.9898 + i * 78.233) * 0.5);

// The issue's own case (mb32 ic4 ih32 oc8, stride 2) and smaller odd ones, all with fewer input channels than the
// avx2 kernels' block of 8 (NCHW copies); then 16, 17 and 64 input channels (the avx512 kernels' block of 16 and
// more: NHWC, see native/conv.cc).
const CASES: readonly Pointwise[] = [
  { n: 32, h: 32, w: 32, ci: 4, co: 8, stride: 2 },
  { n: 3, h: 9, w: 7, ci: 1, co: 5, stride: 2 },
  { n: 2, h: 11, w: 11, ci: 5, co: 16, stride: 2 },
  { n: 4, h: 9, w: 9, ci: 16, co: 8, stride: 2 },
  { n: 2, h: 7, w: 11, ci: 17, co: 5, stride: 2 },
  { n: 8, h: 16, w: 16, ci: 64, co: 128, stride: 2 },
];

test('a strided 1x1 filter gradient is right, with few input channels (NCHW copies) and with many (NHWC)', {
  skip: skipUnlessOnednn,
}, () => {
  const loaded = loadBinding();
  if (!('binding' in loaded)) throw new Error(loaded.reason);
  for (const c of CASES) {
    const g = geometry(c);
    const x = filled(c.n * c.h * c.w * c.ci, 1);
    const dy = filled(c.n * g[4]! * g[5]! * c.co, 2);
    const df = new Float32Array(c.ci * c.co);
    loaded.binding.conv2dBackwardWeights(g, x, dy, df, 0);
    const want = referenceGrad(c, x, dy);
    const scale = Math.max(...want.map(Math.abs));
    const err = Math.max(...want.map((v, i) => Math.abs(v - df[i]!))) / scale;
    assert.ok(err < 1e-5, `${JSON.stringify(c)}: relative error ${err.toExponential(2)}`);
  }
});

// In bf16 as well where it runs: oneDNN's bf16 1x1 kernels gather their input with the same code.
const precisions = onednnBf16Support().supported ? [0, 1] : [0];

test('a strided 1x1 filter gradient, 300 times on one thread, leaves the heap intact', {
  skip: skipUnlessOnednn,
  timeout: 120_000,
}, () => {
  const script = `
    import { loadBinding } from './src/native.ts';
    const { binding } = loadBinding();
    binding.setThreads(1);
    const cases = ${JSON.stringify(CASES.map(geometry))};
    const precisions = ${JSON.stringify(precisions)};
    for (let k = 0; k < 300; k++) {
      const g = cases[k % cases.length];
      const precision = precisions[Math.floor(k / cases.length) % precisions.length];
      const count = (dims) => dims.reduce((a, b) => a * b, 1);
      const x = new Float32Array(count([g[0], g[1], g[2], g[3]])).fill(0.5);
      const dy = new Float32Array(count([g[0], g[4], g[5], g[6]])).fill(0.25);
      binding.conv2dBackwardWeights(g, x, dy, new Float32Array(g[3] * g[6]), precision);
      // Allocations between calls put fresh chunks beside the kernels' scratch buffers, where a stray write lands.
      for (let j = 0; j < 50; j++) new Float32Array(64 + j);
    }
    console.log('ok');
  `;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: new URL('..', import.meta.url),
    env: { ...process.env, MALLOC_CHECK_: '3', MALLOC_PERTURB_: '165', OMP_NUM_THREADS: '1' },
    encoding: 'utf8',
  });
  assert.equal(
    child.status,
    0,
    `the child exited with ${child.status ?? child.signal}: ${child.stderr.slice(-400)}${child.stdout.slice(-200)}`,
  );
  assert.match(child.stdout, /^ok$/m);
});
