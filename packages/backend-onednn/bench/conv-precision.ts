// fp32 against bf16, side by side, for each convolution of ResNet-20/56 (batch 128, 28x28 Fashion-MNIST) and of
// ResNet-50 at 64 px (batch 64): the forward pass, the data gradient and the filter gradient, through the addon's
// entry points (conversions to bf16 and filter reorders included, as a training step pays them), then the GEMM
// peak of each precision. Medians of several repeats after one warm-up.
//
//   node --import tsx packages/backend-onednn/bench/conv-precision.ts [--repeats 5] [--threads N] [--only resnet20|resnet50]
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { gemmPeak } from '../src/gemm-peak.js';
import { loadBinding, type PrecisionCode } from '../src/native.js';
import { onednnBf16Support } from '../src/precision.js';

interface Conv {
  net: 'resnet20' | 'resnet50';
  n: number;
  size: number;
  ci: number;
  co: number;
  k: number;
  stride: number;
}

const pad = (k: number) => (k - 1) >> 1;
const outSize = (c: Conv) => Math.floor((c.size + 2 * pad(c.k) - c.k) / c.stride) + 1;

/** The addon's 17-integer geometry (native/conv.cc). */
function geometry(c: Conv): number[] {
  const o = outSize(c);
  const p = pad(c.k);
  return [c.n, c.size, c.size, c.ci, o, o, c.co, c.k, c.k, c.stride, c.stride, 1, 1, p, p, p, p];
}

const r20 = (size: number, ci: number, co: number, k: number, stride: number): Conv => ({
  net: 'resnet20',
  n: 128,
  size,
  ci,
  co,
  k,
  stride,
});
const r50 = (size: number, ci: number, co: number, k: number, stride: number): Conv => ({
  net: 'resnet50',
  n: 64,
  size,
  ci,
  co,
  k,
  stride,
});

const CONVS: Conv[] = [
  // ResNet-20/56 (option A shortcuts: no 1x1 convolutions), stem then the three stages.
  r20(28, 1, 16, 3, 1),
  r20(28, 16, 16, 3, 1),
  r20(28, 16, 32, 3, 2),
  r20(14, 32, 32, 3, 1),
  r20(14, 32, 64, 3, 2),
  r20(7, 64, 64, 3, 1),
  // ResNet-50 (v1.5: the stride on the 3x3) at 64 px: stem, then per stage the bottleneck's convolutions and its
  // strided 1x1 projection.
  r50(64, 3, 64, 7, 2),
  r50(16, 64, 64, 1, 1),
  r50(16, 64, 64, 3, 1),
  r50(16, 64, 256, 1, 1),
  r50(16, 256, 64, 1, 1),
  r50(16, 256, 128, 1, 1),
  r50(16, 128, 128, 3, 2),
  r50(8, 128, 512, 1, 1),
  r50(16, 256, 512, 1, 2),
  r50(8, 512, 128, 1, 1),
  r50(8, 128, 128, 3, 1),
  r50(8, 512, 256, 1, 1),
  r50(8, 256, 256, 3, 2),
  r50(4, 256, 1024, 1, 1),
  r50(8, 512, 1024, 1, 2),
  r50(4, 1024, 256, 1, 1),
  r50(4, 256, 256, 3, 1),
  r50(4, 1024, 512, 1, 1),
  r50(4, 512, 512, 3, 2),
  r50(2, 512, 2048, 1, 1),
  r50(4, 1024, 2048, 1, 2),
  r50(2, 2048, 512, 1, 1),
  r50(2, 512, 512, 3, 1),
];

const { values: args } = parseArgs({
  options: { repeats: { type: 'string', default: '5' }, threads: { type: 'string' }, only: { type: 'string' } },
});
const repeats = Number(args.repeats);
const loaded = loadBinding();
if (!('binding' in loaded)) throw new Error(loaded.reason);
const { binding } = loaded;
binding.setThreads(args.threads ? Number(args.threads) : availableParallelism());
const support = onednnBf16Support();
if (!support.supported) throw new Error(`bf16 cannot run here: ${support.reason}`);

/**
 * The median milliseconds of `run` in fp32 and in bf16 over `repeats` runs each after a warm-up, alternating, so
 * that a load that comes and goes on a shared machine falls on both alike. Throws if bf16 fell back to fp32.
 */
function medians(run: (p: PrecisionCode) => PrecisionCode): [number, number] {
  if (run(0) !== 0 || run(1) !== 1) throw new Error('oneDNN fell back to fp32 for this shape');
  const ms: [number[], number[]] = [[], []];
  for (let i = 0; i < repeats; i++) {
    for (const p of [0, 1] as const) {
      const start = process.hrtime.bigint();
      run(p);
      ms[p].push(Number(process.hrtime.bigint() - start) / 1e6);
    }
  }
  return ms.map((m) => m.sort((a, b) => a - b)[Math.floor(repeats / 2)]!) as [number, number];
}

const filled = (length: number, seed: number) =>
  Float32Array.from({ length }, (_, i) => Math.sin(seed * 12.9898 + i * 78.233) * 0.5);

/** Per net, the summed medians of each direction: [fp32, bf16] each. */
const totals = new Map<string, [number, number][]>();
const ratio = (fp32: number, bf16: number) => `${(fp32 / bf16).toFixed(2)}x`;
const row = (cells: string[]) => console.log(`| ${cells.join(' | ')} |`);
const info = binding.info();
console.log(`oneDNN ${info.version}, ${support.isa}, ${info.threads} thread(s); medians of ${repeats} runs, ms`);
row(['net', 'conv', 'fwd fp32', 'fwd bf16', 'fwd x', 'bwd-data fp32', 'bf16', 'x', 'bwd-weights fp32', 'bf16', 'x']);
row(Array(11).fill('---'));
for (const c of CONVS.filter((conv) => !args.only || conv.net === args.only)) {
  const g = geometry(c);
  const o = outSize(c);
  const x = filled(c.n * c.size * c.size * c.ci, 1);
  const w = filled(c.k * c.k * c.ci * c.co, 2);
  const dy = filled(c.n * o * o * c.co, 3);
  const y = new Float32Array(dy.length);
  const dx = new Float32Array(x.length);
  const dw = new Float32Array(w.length);
  const times = [
    medians((p) => binding.conv2dForward(g, x, w, y, p)),
    medians((p) => binding.conv2dBackwardData(g, dy, w, dx, p)),
    medians((p) => binding.conv2dBackwardWeights(g, x, dy, dw, p)),
  ];
  const sums = totals.get(c.net) ?? times.map((): [number, number] => [0, 0]);
  times.forEach(([fp32, bf16], i) => {
    sums[i]![0] += fp32;
    sums[i]![1] += bf16;
  });
  totals.set(c.net, sums);
  const name = `${c.k}x${c.k}/${c.stride} ${c.ci}->${c.co} @${c.size} n${c.n}`;
  row([c.net, name, ...times.flatMap(([fp32, bf16]) => [fp32.toFixed(2), bf16.toFixed(2), ratio(fp32, bf16)])]);
}
for (const [net, sums] of totals) {
  row([net, 'sum', ...sums.flatMap(([fp32, bf16]) => [fp32.toFixed(1), bf16.toFixed(1), ratio(fp32, bf16)])]);
}
for (const size of [1024, 2048]) {
  const [fp32, bf16] = [gemmPeak('fp32', size, repeats), gemmPeak('bf16', size, repeats)];
  console.log(
    `GEMM ${size}^3: fp32 ${(fp32 / 1e9).toFixed(1)} GFLOP/s, bf16 ${(bf16 / 1e9).toFixed(1)} GFLOP/s (${ratio(bf16, fp32)})`,
  );
}
