// Which oneDNN implementations ResNet-50's convolutions and stem pool run on: a child process with ONEDNN_VERBOSE=1,
// where oneDNN prints one line per primitive it executes, naming the implementation. Every convolution must take a
// jit kernel (not the gemm or reference code that a plain filter layout or an unsupported case would get), in bf16
// one of the bf16 ISA's, and the strided 1x1 projections must compute their filter gradient from the NHWC tensors
// themselves (the NCHW copies of native/conv.cc's StridedPointwise are for fewer than 16 input channels only).
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { onednnBf16Support } from '../src/index.js';
import { skipUnlessOnednn } from './availability.js';

const outSize = (size: number, k: number, s: number, p: number) => Math.floor((size + 2 * p - k) / s) + 1;

/** The addon's conv geometry of a square input with symmetric padding (native/conv.cc). */
function conv(n: number, size: number, ci: number, co: number, k: number, s: number, p: number): number[] {
  const o = outSize(size, k, s, p);
  return [n, size, size, ci, o, o, co, k, k, s, s, 1, 1, p, p, p, p];
}

// ResNet-50 at 64 px (batch 16): the stem at 64 px and 33 px, a 3x3 and 1x1s of stage 1, the strided 3x3 (v1.5) and
// strided 1x1 projection of stage 2, and stage 4's; and a strided 1x1 with 12 input channels, which takes the copies.
const CONVS = [
  conv(16, 64, 3, 64, 7, 2, 3),
  conv(16, 33, 3, 64, 7, 2, 3),
  conv(16, 16, 64, 64, 3, 1, 1),
  conv(16, 16, 64, 256, 1, 1, 0),
  conv(16, 16, 128, 128, 3, 2, 1),
  conv(16, 16, 64, 128, 1, 2, 0),
  conv(16, 8, 256, 512, 1, 2, 0),
  conv(16, 4, 1024, 2048, 1, 2, 0),
  conv(4, 8, 12, 20, 1, 2, 0),
];
// The stem pool: 3x3/2 pad 1 on [16, 32, 32, 64].
const POOL = [16, 32, 32, 64, 16, 16, 3, 3, 2, 2, 1, 1, 1, 1];

const CHILD = `
  import { loadBinding } from './src/native.ts';
  const { binding } = loadBinding();
  binding.setThreads(1);
  const precision = Number(process.argv.at(-1));
  const count = (dims) => dims.reduce((a, b) => a * b, 1);
  for (const g of ${JSON.stringify(CONVS)}) {
    const x = new Float32Array(count(g.slice(0, 4))).fill(0.5);
    const w = new Float32Array(count([g[7], g[8], g[3], g[6]])).fill(0.25);
    const y = new Float32Array(count([g[0], g[4], g[5], g[6]]));
    binding.conv2dForward(g, x, w, y, precision);
    binding.conv2dBackwardData(g, y, w, x, precision);
    binding.conv2dBackwardWeights(g, x, y, w, precision);
  }
  const p = ${JSON.stringify(POOL)};
  const x = new Float32Array(count(p.slice(0, 4))).fill(1);
  const y = new Float32Array(p[0] * p[4] * p[5] * p[3]);
  binding.maxPoolForward(p, x, y);
  binding.maxPoolBackward(p, x, y, x);
`;

/** oneDNN's verbose lines of the calls above: primitive kind, implementation, propagation, memory descriptors, shape. */
function verbose(precision: 0 | 1): Array<{ kind: string; impl: string; prop: string; mds: string; shape: string }> {
  const child = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', CHILD, '--', `${precision}`],
    {
      cwd: new URL('..', import.meta.url),
      env: { ...process.env, ONEDNN_VERBOSE: '1', OMP_NUM_THREADS: '1' },
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    },
  );
  assert.equal(child.status, 0, `the child exited with ${child.status ?? child.signal}: ${child.stderr.slice(-600)}`);
  return child.stdout
    .split('\n')
    .filter((line) => line.startsWith('onednn_verbose,exec,cpu,'))
    .map((line) => {
      const f = line.split(',');
      return { kind: f[3]!, impl: f[4]!, prop: f[5]!, mds: f[6]!, shape: f.at(-2)! };
    });
}

function check(precision: 0 | 1): void {
  const lines = verbose(precision);
  const convs = lines.filter((l) => l.kind === 'convolution');
  assert.equal(convs.length, 3 * CONVS.length, 'one verbose line per convolution call');
  for (const l of convs) {
    const strided1x1 = /kh1sh2/.test(l.shape) && /kw1sw2/.test(l.shape);
    const copies = l.prop === 'backward_weights' && strided1x1 && Number(/ic(\d+)/.exec(l.shape)![1]) < 16;
    if (l.prop === 'backward_weights' && strided1x1) {
      // NHWC is acdb in oneDNN's names, NCHW abcd. The copies' path is oneDNN's gemm: slow, but only where needed.
      assert.match(l.mds, copies ? /^src_\w+::blocked:abcd/ : /^src_\w+::blocked:acdb/, `${l.shape}: ${l.mds}`);
    }
    if (copies) continue;
    assert.match(l.impl, /^(brgconv|jit)/, `${l.prop} ${l.shape}: ${l.impl}`);
    if (precision === 1) {
      assert.match(l.impl, /avx512_core_bf16|amx/, `${l.prop} ${l.shape}: ${l.impl} is no bf16 kernel`);
      // The verbose lines name the gradients src and dst too: bf16 is what the primitive reads.
      assert.match(l.mds, l.prop === 'backward_data' ? /dst_bf16/ : /^src_bf16/, `${l.prop} ${l.shape}: ${l.mds}`);
    }
  }
  const pools = lines.filter((l) => l.kind.startsWith('pooling')); // 'pooling_v2' in oneDNN 2.6
  assert.deepEqual(
    pools.map((l) => [l.prop, /^jit/.test(l.impl)]),
    [
      ['forward_training', true],
      ['forward_training', true],
      ['backward_data', true],
    ],
  );
}

test('ResNet-50 convolutions and the stem pool run on jit kernels, in fp32', { skip: skipUnlessOnednn }, () =>
  check(0),
);

const bf16 = onednnBf16Support();
test(
  'ResNet-50 convolutions run on bf16 jit kernels, in bf16',
  {
    skip: skipUnlessOnednn || (bf16.supported ? false : bf16.reason),
  },
  () => check(1),
);
