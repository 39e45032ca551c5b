// conv2d with its custom gradients, on wasm, cpu and onednn, against the cpu backend's own conv kernels as the reference.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { conv2d } from '../src/kernels/conv2d.js';
import { conv2dFilterGrad, conv2dInputGrad } from '../src/kernels/wasm-kernels.js';
import { TEST_BACKENDS as BACKENDS } from './backends.js';

interface Case {
  n: number;
  h: number;
  w: number;
  cin: number;
  cout: number;
  k: 1 | 3;
  stride: 1 | 2;
}

interface Arrays {
  x: Float32Array;
  f: Float32Array;
  dy: Float32Array;
}

interface Result {
  y: Float32Array;
  dx: Float32Array;
  df: Float32Array;
}

/** mulberry32: a seeded generator, so that a failing case can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const padOf = (c: Case): number => (c.k - 1) / 2;
const outOf = (size: number, c: Case): number => Math.floor((size + 2 * padOf(c) - c.k) / c.stride) + 1;

/** Cases over every (kernel, stride, parity of H) with random batch, sizes and channels. */
function cases(): Case[] {
  const rand = rng(20240531);
  const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
  const out: Case[] = [];
  for (const k of [1, 3] as const) {
    for (const stride of [1, 2] as const) {
      for (const parity of [0, 1]) {
        for (let r = 0; r < 3; r++) {
          const h = 2 * int(1, 6) + parity;
          out.push({ n: int(1, 4), h, w: int(k, 13), cin: int(1, 16), cout: int(1, 16), k, stride });
        }
      }
    }
  }
  return out;
}

function arrays(c: Case, seed: number): Arrays {
  const rand = rng(seed);
  const fill = (size: number): Float32Array => Float32Array.from({ length: size }, () => 2 * rand() - 1);
  return {
    x: fill(c.n * c.h * c.w * c.cin),
    f: fill(c.k * c.k * c.cin * c.cout),
    dy: fill(c.n * outOf(c.h, c) * outOf(c.w, c) * c.cout),
  };
}

function tensors(c: Case, a: Arrays): { x: tf.Tensor4D; f: tf.Tensor4D; dy: tf.Tensor4D } {
  return {
    x: tf.tensor4d(a.x, [c.n, c.h, c.w, c.cin]),
    f: tf.tensor4d(a.f, [c.k, c.k, c.cin, c.cout]),
    dy: tf.tensor4d(a.dy, [c.n, outOf(c.h, c), outOf(c.w, c), c.cout]),
  };
}

/** Reads y, dx and df back and disposes them; tidy must not return the arrays, which it would walk key by key. */
function read(make: () => tf.Tensor[]): Result {
  const [y, dx, df] = tf.tidy(make) as [tf.Tensor, tf.Tensor, tf.Tensor];
  const result = {
    y: y.dataSync() as Float32Array,
    dx: dx.dataSync() as Float32Array,
    df: df.dataSync() as Float32Array,
  };
  tf.dispose([y, dx, df]);
  return result;
}

/** Forward and both gradients of `op` for dy. */
function run(op: (x: tf.Tensor4D, f: tf.Tensor4D) => tf.Tensor4D, c: Case, a: Arrays): Result {
  return read(() => {
    const { x, f, dy } = tensors(c, a);
    const grads = tf.grads((xi: tf.Tensor, fi: tf.Tensor) => op(xi as tf.Tensor4D, fi as tf.Tensor4D))([x, f], dy);
    return [op(x, f), ...grads];
  });
}

/** The stock gradients: the cpu backend's Conv2DBackpropInput and Conv2DBackpropFilter, as tf's Conv2D grad calls them. */
function reference(c: Case, a: Arrays): Result {
  return read(() => {
    const { x, f, dy } = tensors(c, a);
    const pad = padOf(c);
    const attrs = { strides: c.stride, pad, dataFormat: 'NHWC', filterShape: f.shape };
    return [
      tf.conv2d(x, f, c.stride, pad),
      tf.conv2dTranspose(dy, f, x.shape, c.stride, pad),
      tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, attrs) as tf.Tensor,
    ];
  });
}

function relError(got: Float32Array, want: Float32Array): number {
  assert.equal(got.length, want.length);
  let diff = 0;
  let scale = 1;
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs(got[i]! - want[i]!));
    scale = Math.max(scale, Math.abs(want[i]!));
  }
  return diff / scale;
}

const dot = (a: Float32Array, b: Float32Array): number => a.reduce((s, v, i) => s + v * b[i]!, 0);
const name = (c: Case): string => `${c.k}x${c.k}/s${c.stride} x=[${c.n},${c.h},${c.w},${c.cin}] cout=${c.cout}`;

before(async () => {
  for (const backend of BACKENDS) {
    assert.ok(await tf.setBackend(backend), `backend ${backend} did not initialise`);
  }
});

describe('conv2d against the cpu reference', () => {
  for (const [i, c] of cases().entries()) {
    test(name(c), async () => {
      const a = arrays(c, i + 1);
      await tf.setBackend('cpu');
      const want = reference(c, a);
      // conv is bilinear, so <y, dy> = <x, dx> = <f, df>: this checks the reference without any gradient code.
      const inner = dot(want.y, a.dy);
      assert.ok(Math.abs(dot(a.x, want.dx) - inner) <= 1e-4 * Math.max(1, Math.abs(inner)));
      assert.ok(Math.abs(dot(a.f, want.df) - inner) <= 1e-4 * Math.max(1, Math.abs(inner)));
      for (const backend of BACKENDS) {
        await tf.setBackend(backend);
        const got = run((x, f) => conv2d(x, f, c.stride, padOf(c)), c, a);
        for (const key of ['y', 'dx', 'df'] as const) {
          const err = relError(got[key], want[key]);
          assert.ok(err < 1e-4, `${backend} ${key}: relative error ${err}`);
        }
      }
      // conv2d uses the formulas on wasm only; on cpu they must hold as well, being plain tf ops.
      await tf.setBackend('cpu');
      const direct = read(() => {
        const { x, f, dy } = tensors(c, a);
        const pad = padOf(c);
        return [
          tf.conv2d(x, f, c.stride, pad),
          conv2dInputGrad(x.shape, dy, f, c.stride, pad),
          conv2dFilterGrad(x, dy, f.shape, c.stride, pad),
        ];
      });
      assert.ok(relError(direct.dx, want.dx) < 1e-4, 'cpu conv2dInputGrad');
      assert.ok(relError(direct.df, want.df) < 1e-4, 'cpu conv2dFilterGrad');
    });
  }
});

describe('conv2d memory', () => {
  for (const backend of BACKENDS) {
    test(`forward and backward leave no tensor behind on ${backend}`, async () => {
      await tf.setBackend(backend);
      for (const c of cases().filter((_, i) => i % 3 === 0)) {
        const a = arrays(c, 7);
        const { x, f, dy } = tensors(c, a);
        const before = tf.memory().numTensors;
        tf.tidy(() => {
          conv2d(x, f, c.stride, padOf(c));
          tf.grads((xi: tf.Tensor, fi: tf.Tensor) => conv2d(xi as tf.Tensor4D, fi as tf.Tensor4D, c.stride, padOf(c)))(
            [x, f],
            dy,
          );
        });
        assert.equal(tf.memory().numTensors, before, name(c));
        // Without a tidy around it, only the two gradients the caller owns may remain.
        const grads = tf.grads((xi: tf.Tensor, fi: tf.Tensor) =>
          conv2d(xi as tf.Tensor4D, fi as tf.Tensor4D, c.stride, padOf(c)),
        )([x, f], dy);
        assert.equal(tf.memory().numTensors, before + 2, name(c));
        tf.dispose([...grads, x, f, dy]);
      }
    });
  }
});

test('conv2d rejects a pad its gradient cannot express', () => {
  const x = tf.zeros([1, 5, 5, 1]) as tf.Tensor4D;
  const f = tf.zeros([3, 3, 1, 1]) as tf.Tensor4D;
  assert.throws(() => conv2d(x, f, 1, 3), /pad 3 must lie in \[0, 2\]/);
  tf.dispose([x, f]);
});
