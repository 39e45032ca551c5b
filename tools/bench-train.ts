// `pnpm bench:train`: training throughput of any registered network (default ResNet-20 and ResNet-56 on 28x28x1) at
// full depth and with stochastic depth (linear rule, p_L = 0.5), the measured speed-up against the theoretical one of
// the schedule, peak RSS, and FLOP/s as a fraction of the machine's fp32 GEMM peak measured in the same run; with
// --compare-torch, the same figures from the PyTorch reference (tools/torch_reference.py: torchvision's nets for the
// ImageNet family) in the same run, the two alternating. With --precision fp32,bf16 every figure is taken in both
// precisions (PyTorch's bf16 is torch.autocast('cpu', dtype=torch.bfloat16)), bf16 FLOP/s against a bf16 GEMM peak
// (oneDNN's bf16 matmul) measured in the same run, and a summary gives the bf16 / fp32 ratios.
//
// Theoretical speed-up = C_full / E[C_sd], in multiply-accumulates per image (core's computeCost, theoreticalSpeedup):
//   C_full = stem + sum_l (branch_l + shortcut_l) + head,   E[C_sd] = stem + sum_l (p_l * branch_l + shortcut_l) + head
// (forward and backward scale alike, so the ratio holds for a whole training step). A second figure charges the blocks
// that ran in the timed steps (mean count) with the mean branch cost, since 20 steps of gates need not match E[.].
// FLOP of a training step = 2 FLOP per MAC x 3 (the forward conv, and the backward convs for the input and for the
// weights) x MACs per image x batch, of what ran: every block at full depth, E[C_sd] with stochastic depth.
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  type Architecture,
  type ComputeCost,
  computeCost,
  expectedDepth,
  type InputShape,
  type NetworkChoice,
  networkNames,
  networkOptions,
  residualLayers,
  resolveArchitecture,
  survivalProbs,
  theoreticalSpeedup,
  type Topology,
  topologyOf,
} from '@depthfold/core';
import { gemmPeak as onednnGemmPeak, registerOnednnBackend } from '@depthfold/backend-onednn';
import type { KernelShare, MeasureOptions } from '@depthfold/train';
import type { CaseResult } from './bench-train-case.js';
import { quantile } from './stats.js';

const PYTHON = '/usr/bin/python3';
const TOOLS = dirname(fileURLToPath(import.meta.url));
const TORCH_SCRIPT = join(TOOLS, 'torch_reference.py');
const GEMM_SCRIPT = join(TOOLS, 'gemm_peak.py');
const CASE_SCRIPT = join(TOOLS, 'bench-train-case.ts');
/** measureTrainSteps draws labels of 10 classes; the reference gets as many. */
const NUM_CLASSES = 10;
/** A kernel above this share of a step is listed by name under its profile (issue 32: native kernels for these). */
const KERNEL_SHARE_NOTED = 0.02;

/** What a family's networks run on unless told otherwise. */
interface FamilyDefaults {
  size: number;
  channels: number;
  batchSize: number;
  why: string;
}

const FAMILY_DEFAULTS: Readonly<Record<string, FamilyDefaults>> = {
  'resnet-cifar': { size: 28, channels: 1, batchSize: 128, why: "Fashion-MNIST's images and pnpm train's batch" },
  // Issue 32's targets: 64 and 112 px RGB; 32 images keep a ResNet-50 step near a second on 2 cores.
  'resnet-imagenet': { size: 64, channels: 3, batchSize: 32, why: 'RGB at 64 px, a batch that fits 2 cores' },
};
const OTHER_FAMILIES: FamilyDefaults = { size: 32, channels: 3, batchSize: 32, why: 'a family without bench defaults' };

const HELP = `Usage: pnpm bench:train [options]

  --arch <list>           networks, comma-separated (default resnet20,resnet56); any of:
                          ${networkNames().join(', ')}
  --depths <list>         resnet-cifar depths, the older spelling of --arch (20,56 = --arch resnet20,resnet56)
  --input-size <H[xW]>    image size for every network (default: the family's: 28 for resnet-cifar, 64 for
                          resnet-imagenet)
  --channels <n>          image channels (default: the family's: 1 for resnet-cifar, 3 for resnet-imagenet)
  --batch-size <n>        images per step (default: the family's: 128 for resnet-cifar, 32 for resnet-imagenet)
  --backend <name>        tfjs backend: auto, tensorflow-gpu, tensorflow, onednn, wasm, cpu (default auto)
  --survival-prob <p>     p_L of the linear rule for the stochastic-depth runs (default 0.5)
  --warmup <n>            untimed steps before timing (default 3)
  --steps <n>             timed steps, at least 20 for the spread to mean something (default 20)
  --workers <n>           data-parallel workers, where the engine has them (default: the engine's own)
  --threads <n>           onednn's OpenMP threads per worker (default: the cores shared among the workers)
  --rounds <n>            rounds of every case, depthfold and PyTorch alternating (default 1)
  --profile <n>           steps profiled kernel by kernel after the timed ones, for the top-10 table (default 3; 0: none)
  --seed <n>              seed of weights, data and gates (default 1)
  --compare-torch         also run tools/torch_reference.py --bench for the same nets (needs ${PYTHON} with torch, and
                          torchvision for resnet-imagenet)
  --torch-threads <n>     torch.set_num_threads for the PyTorch runs, and the GEMM's threads (default 2)
  --precision <list>      fp32, bf16 or both, comma-separated (default fp32): depthfold's --precision, and PyTorch's
                          fp32 or torch.autocast('cpu', dtype=torch.bfloat16) in the same run
  --gemm-size <n>         n of the n x n fp32 GEMM that measures the peak, once per round (default 2048; 0: none)
  --help                  this text
`;

/** One network to measure, resolved once. */
interface BenchNet {
  /** The key of its figures: the name given, or `resnet-cifar depth 50` for --depths. */
  key: string;
  choice: NetworkChoice;
  record: Architecture;
  topology: Topology;
  batchSize: number;
  /** p_l of the linear rule, l = 1..L. */
  probs: number[];
  cost: ComputeCost;
  /** tools/torch_reference.py's arguments for the same network; undefined where PyTorch has none. */
  torchArgs: string[] | undefined;
}

/** Step-time figures of one configuration, from either implementation. */
interface Timing {
  msMedian: number;
  msP10: number;
  msP90: number;
  imagesPerSecond: number;
  blocksMean: number;
}

/** Full-depth and stochastic-depth timings of one network from one implementation. */
interface Pair {
  full: Timing;
  sd: Timing;
  peakRssMb: number;
}

/** The `--bench` JSON of tools/torch_reference.py (the fields read here). */
interface TorchBench {
  ms_per_step: number[];
  blocks_run: number[];
  threads: number;
  torch_version: string;
  peak_rss_mb: number;
}

/** The JSON of tools/gemm_peak.py (the fields read here). */
interface GemmPeak {
  size: number;
  numpy_gflops: number;
  openblas: { threads: number; core: string; config: string } | null;
  torch_gflops?: number;
  torch_threads?: number;
}

function timing(msPerStep: readonly number[], blocksRun: readonly number[], batchSize: number): Timing {
  const msMedian = quantile(msPerStep, 0.5);
  return {
    msMedian,
    msP10: quantile(msPerStep, 0.1),
    msP90: quantile(msPerStep, 0.9),
    imagesPerSecond: (batchSize * 1000) / msMedian,
    blocksMean: blocksRun.reduce((a, b) => a + b, 0) / blocksRun.length,
  };
}

const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);

/** Multiply-accumulates per image: every block (full depth), or E[C_sd] under the survival probabilities. */
function macsPerImage(cost: ComputeCost, probs?: readonly number[]): number {
  const fixed = cost.stem + cost.head + sum(cost.shortcuts);
  return fixed + cost.branches.reduce((total, b, i) => total + (probs ? probs[i]! : 1) * b, 0);
}

/** FLOP of one training step: 2 FLOP per MAC, x3 for the forward conv and the two backward ones. */
const flopPerStep = (macs: number, batchSize: number): number => 2 * 3 * macs * batchSize;

/** The theoretical speed-up had each block that ran cost the mean branch. */
function realisedSpeedup(cost: ComputeCost, blocksRunMean: number): number {
  const full = macsPerImage(cost);
  const fixed = cost.stem + cost.head + sum(cost.shortcuts);
  return full / (fixed + (blocksRunMean / cost.branches.length) * sum(cost.branches));
}

/** tools/torch_reference.py's arguments for the network of `record`, or undefined where PyTorch has no such net. */
function torchArchArgs(record: Architecture): string[] | undefined {
  const { input } = record;
  const widthMultiplier = Number(record.widthMultiplier ?? 1);
  const common = [
    '--depth',
    String(record.depth),
    '--width-multiplier',
    String(widthMultiplier),
    '--input',
    `${input.channels},${input.height},${input.width}`,
    '--classes',
    String(record.numClasses),
  ];
  if (record.family === 'resnet-cifar')
    return ['--family', 'resnet-cifar', '--shortcut', String(record.shortcut), ...common];
  // torchvision widens bottlenecks only (wide_resnet50_2); its BasicBlock refuses a width.
  const basic = record.depth === 18 || record.depth === 34;
  if (record.family === 'resnet-imagenet' && !(basic && widthMultiplier > 1))
    return ['--family', 'resnet-imagenet', '--stem', String(record.stem), ...common];
  return undefined;
}

/** Whether the Python interpreter can import `modules`, and why not if it cannot. */
function pythonHas(modules: string): { ok: boolean; reason: string } {
  const r = spawnSync(PYTHON, ['-c', `import ${modules}`], { encoding: 'utf8' });
  if (r.error) return { ok: false, reason: `${PYTHON} did not start (${r.error.message})` };
  if (r.status !== 0)
    return { ok: false, reason: `${PYTHON} -c "import ${modules}" failed: ${r.stderr.trim().split('\n').at(-1)}` };
  return { ok: true, reason: '' };
}

/** Runs a Python script and parses the JSON of its last line. */
function runPython<T>(argv: string[], env: NodeJS.ProcessEnv = process.env): T {
  const r = spawnSync(PYTHON, argv, { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024, env });
  if (r.status !== 0) throw new Error(`${argv.slice(0, 2).join(' ')} failed (${r.status}): ${r.stderr.trim()}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as T;
}

/** One depthfold case measured in a child process (tools/bench-train-case.ts), so that its peak RSS is its own. */
function measuredCase(options: MeasureOptions): CaseResult {
  const r = spawnSync(process.execPath, [...process.execArgv, CASE_SCRIPT, JSON.stringify(options)], {
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`${CASE_SCRIPT} failed (${r.status ?? r.signal}) on ${JSON.stringify(options)}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as CaseResult;
}

/** The GEMM peak with OpenBLAS's own choice of kernels, and with the environment's pinned core where it pins one. */
function gemmPeak(size: number, threads: number, withTorch: boolean): { peak: GemmPeak; pinned?: GemmPeak } {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    OPENBLAS_NUM_THREADS: String(threads),
    OMP_NUM_THREADS: String(threads),
  };
  const argv = [GEMM_SCRIPT, '--size', String(size), '--runs', '5', '--threads', String(threads)];
  // OpenBLAS picks its kernels for the CPU it finds unless OPENBLAS_CORETYPE pins an older core (an AVX2 Haswell
  // kernel on an AVX-512 machine halves the peak that oneDNN's kernels can reach): the peak is the CPU's, and the
  // pinned figure is printed beside it.
  const { OPENBLAS_CORETYPE: pinnedCore, ...free } = env;
  const peak = runPython<GemmPeak>(withTorch ? argv : [...argv, '--no-torch'], free);
  if (pinnedCore === undefined) return { peak };
  return { peak, pinned: runPython<GemmPeak>([...argv, '--no-torch'], env) };
}

const fmt = {
  ips: (v: number) => v.toFixed(1),
  ms: (t: Timing) => `${t.msMedian.toFixed(0)} [${t.msP10.toFixed(0)}, ${t.msP90.toFixed(0)}]`,
  x: (v: number) => `${v.toFixed(2)}x`,
  ratio: (v: number) => v.toFixed(2),
  mb: (v: number) => `${v.toFixed(0)} MB`,
  gflops: (flop: number, ms: number) => (flop / ms / 1e6).toFixed(1),
};

/** Prints rows of cells as a Markdown table with padded columns. */
function printTable(rows: string[][]): void {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ')} |`;
  console.log(line(rows[0]!));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows.slice(1)) console.log(line(r));
}

/** `64` or `64x112` -> height and width. */
function parseSize(text: string): { height: number; width: number } {
  const m = /^(\d+)(?:x(\d+))?$/.exec(text.trim());
  if (!m) throw new Error(`--input-size: expected H or HxW (e.g. 64, 64x112), received ${text}`);
  const height = Number(m[1]);
  return { height, width: m[2] === undefined ? height : Number(m[2]) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      arch: { type: 'string' },
      depths: { type: 'string' },
      'input-size': { type: 'string' },
      channels: { type: 'string' },
      'batch-size': { type: 'string' },
      backend: { type: 'string', default: 'auto' },
      'survival-prob': { type: 'string', default: '0.5' },
      warmup: { type: 'string', default: '3' },
      steps: { type: 'string', default: '20' },
      workers: { type: 'string' },
      threads: { type: 'string', default: '0' },
      profile: { type: 'string', default: '3' },
      rounds: { type: 'string', default: '1' },
      seed: { type: 'string', default: '1' },
      'compare-torch': { type: 'boolean', default: false },
      'torch-threads': { type: 'string', default: '2' },
      precision: { type: 'string', default: 'fp32' },
      'gemm-size': { type: 'string', default: '2048' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const int = (name: string, text: string, min: number): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name}: expected an integer >= ${min}, received ${text}`);
    return n;
  };
  if (values.arch !== undefined && values.depths !== undefined)
    throw new Error(
      '--arch and --depths name the networks both: give one (--depths 20,56 is --arch resnet20,resnet56)',
    );
  const choices: { key: string; choice: NetworkChoice }[] =
    values.depths !== undefined
      ? values.depths.split(',').map((d) => {
          const depth = int('depths', d.trim(), 8);
          return { key: `resnet-cifar depth ${depth}`, choice: { arch: 'resnet-cifar', overrides: { depth } } };
        })
      : (values.arch ?? 'resnet20,resnet56').split(',').map((a) => ({ key: a.trim(), choice: { arch: a.trim() } }));
  const size = values['input-size'] === undefined ? undefined : parseSize(values['input-size']);
  const channels = values.channels === undefined ? undefined : int('channels', values.channels, 1);
  const batchSizeGiven = values['batch-size'] === undefined ? undefined : int('batch-size', values['batch-size'], 1);
  const warmup = int('warmup', values.warmup, 0);
  const steps = int('steps', values.steps, 1);
  const seed = int('seed', values.seed, 0);
  const torchThreads = int('torch-threads', values['torch-threads'], 1);
  const workers = values.workers === undefined ? undefined : int('workers', values.workers, 1);
  const threads = int('threads', values.threads, 0);
  const profileSteps = int('profile', values.profile, 0);
  const rounds = int('rounds', values.rounds, 1);
  const gemmSize = int('gemm-size', values['gemm-size'], 0);
  const precisions = [...new Set(values.precision.split(',').map((p) => p.trim()))].map((p) => {
    if (p !== 'fp32' && p !== 'bf16') throw new Error(`--precision: expected fp32, bf16 or both, received ${p}`);
    return p;
  });
  const survivalProb = Number(values['survival-prob']);
  if (!(survivalProb > 0 && survivalProb <= 1))
    throw new Error(`--survival-prob: expected a number in (0, 1], received ${values['survival-prob']}`);
  if (steps < 20) console.error(`note: --steps ${steps} is below 20; the p10/p90 spread is rough`);

  // Every network is resolved before anything runs, so that a size it cannot take is refused at once (core names
  // the smallest size that works).
  const nets: BenchNet[] = choices.map(({ key, choice }) => {
    const family = networkOptions(choice).family;
    const defaults = FAMILY_DEFAULTS[family] ?? OTHER_FAMILIES;
    const input: InputShape = {
      height: size?.height ?? defaults.size,
      width: size?.width ?? defaults.size,
      channels: channels ?? defaults.channels,
    };
    const record = resolveArchitecture(choice, input, NUM_CLASSES);
    const topology = topologyOf(record);
    return {
      key,
      choice,
      record,
      topology,
      batchSize: batchSizeGiven ?? defaults.batchSize,
      probs: survivalProbs('linear', residualLayers(topology).length, survivalProb),
      cost: computeCost(topology),
      torchArgs: torchArchArgs(record),
    };
  });

  // Load from other processes moves step times by 2x on a shared machine, so the two implementations alternate,
  // case by case, over the rounds, and each figure is the median of all its rounds' steps.
  const available = values['compare-torch']
    ? pythonHas(nets.some((n) => n.record.family === 'resnet-imagenet') ? 'torch, torchvision' : 'torch')
    : { ok: false, reason: '' };
  const notes: string[] = [];
  if (values['compare-torch'] && !available.ok) notes.push(`PyTorch comparison skipped: ${available.reason}`);
  for (const n of nets) {
    if (available.ok && !n.torchArgs) notes.push(`PyTorch has no ${n.topology.title}: no comparison for it.`);
  }
  const numpy = gemmSize > 0 ? pythonHas('numpy') : { ok: false, reason: '--gemm-size 0' };
  if (gemmSize > 0 && !numpy.ok) notes.push(`GEMM peak not measured: ${numpy.reason}`);
  const samples = new Map<string, { ms: number[]; blocks: number[]; rss: number }>();
  const record = (key: string, ms: readonly number[], blocks: readonly number[], rss: number) => {
    const s = samples.get(key) ?? { ms: [], blocks: [], rss: 0 };
    s.ms.push(...ms);
    s.blocks.push(...blocks);
    s.rss = Math.max(s.rss, rss);
    samples.set(key, s);
  };
  const kernels = new Map<string, KernelShare[]>();
  const gemms: GemmPeak[] = [];
  const pinnedGemms: GemmPeak[] = [];
  const bf16Gemms: number[] = [];
  let backend = '';
  let workersUsed = 1;
  let torchLabel = '';
  for (let round = 1; round <= rounds; round++) {
    if (numpy.ok) {
      console.error(`GEMM peak: ${gemmSize}x${gemmSize} fp32, round ${round} of ${rounds}...`);
      const { peak, pinned } = gemmPeak(gemmSize, torchThreads, available.ok);
      gemms.push(peak);
      if (pinned) pinnedGemms.push(pinned);
    }
    if (precisions.includes('bf16')) {
      // bf16's ceiling: oneDNN's bf16 matmul (bf16 inputs, fp32 accumulation) on the threads training uses.
      console.error(`GEMM peak: ${gemmSize || 2048}^3 bf16 through oneDNN, round ${round} of ${rounds}...`);
      registerOnednnBackend(threads > 0 ? { threads } : {});
      bf16Gemms.push(onednnGemmPeak('bf16', gemmSize || 2048) / 1e9);
    }
    for (const precision of precisions)
      for (const net of nets) {
        for (const [key, rule] of [
          ['full', 'none'],
          ['sd', 'linear'],
        ] as const) {
          const label = `${net.topology.title}, ${precision}, ${rule === 'none' ? 'full depth' : `linear p_L = ${survivalProb}`}, ${warmup} + ${steps} steps, round ${round} of ${rounds}`;
          console.error(`depthfold: ${label}...`);
          const depth = net.choice.overrides?.depth;
          const r = measuredCase({
            arch: net.choice.arch,
            ...(typeof depth === 'number' ? { depth } : {}),
            input: net.record.input,
            survivalRule: rule,
            survivalProb,
            batchSize: net.batchSize,
            warmup,
            steps,
            backend: values.backend,
            seed,
            threads,
            precision,
            profileSteps: key === 'full' && round === rounds ? profileSteps : 0,
            ...(workers === undefined ? {} : { workers }),
          });
          backend = r.backend;
          workersUsed = r.workers;
          record(`ours/${precision}/${net.key}/${key}`, r.msPerStep, r.blocksRun, r.peakRssMb);
          if (r.kernels.length > 0) kernels.set(`${precision}/${net.key}`, r.kernels);
          if (!available.ok || !net.torchArgs) continue;
          console.error(`PyTorch: ${label}...`);
          const t = runPython<TorchBench>([
            TORCH_SCRIPT,
            '--bench',
            ...net.torchArgs,
            ...['--rule', rule, '--survival-prob', String(survivalProb), '--batch-size', String(net.batchSize)],
            ...['--warmup', String(warmup), '--steps', String(steps), '--threads', String(torchThreads)],
            ...['--seed', String(seed), '--autocast', precision === 'bf16' ? 'bf16' : 'none'],
          ]);
          torchLabel = `PyTorch ${t.torch_version} (CPU, ${t.threads} threads)`;
          record(`torch/${precision}/${net.key}/${key}`, t.ms_per_step, t.blocks_run, t.peak_rss_mb);
        }
      }
  }
  const pairOf = (who: 'ours' | 'torch', net: BenchNet, precision: string): Pair | undefined => {
    const full = samples.get(`${who}/${precision}/${net.key}/full`);
    const sd = samples.get(`${who}/${precision}/${net.key}/sd`);
    if (!full || !sd) return undefined;
    return {
      full: timing(full.ms, full.blocks, net.batchSize),
      sd: timing(sd.ms, sd.blocks, net.batchSize),
      peakRssMb: Math.max(full.rss, sd.rss),
    };
  };

  // The peak: the best SGEMM of each round (numpy's and torch's, both OpenBLAS here, with OpenBLAS's own kernels or
  // the environment's pinned core), median over the rounds. Load from other processes only lowers a GEMM's figure.
  const peakGflops =
    gemms.length > 0
      ? quantile(
          gemms.map((g, i) => Math.max(g.numpy_gflops, g.torch_gflops ?? 0, pinnedGemms[i]?.numpy_gflops ?? 0)),
          0.5,
        )
      : undefined;
  const tableOf = (precision: string, peak: number | undefined, peakName: string): string[][] => {
    const withTorch = nets.some((n) => pairOf('torch', n, precision) !== undefined);
    const header = [
      'figure',
      `depthfold (${backend}, ${workersUsed} worker${workersUsed === 1 ? '' : 's'}, ${precision})`,
    ];
    if (withTorch)
      header.push(
        `${torchLabel.replace(/\)$/, '')}, ${precision === 'bf16' ? 'autocast bf16' : 'fp32'})`,
        'depthfold / PyTorch',
      );
    const rows: string[][] = [header];
    const row = (label: string, ourCell: string, torchCell = '', ratio = '') =>
      rows.push(withTorch ? [label, ourCell, torchCell, ratio] : [label, ourCell]);
    for (const net of nets) {
      const o = pairOf('ours', net, precision)!;
      const t = pairOf('torch', net, precision);
      const { cost, probs, batchSize } = net;
      const theory = theoreticalSpeedup(cost, probs);
      const ipsRatio = (a: number, b?: number) => (b === undefined ? '' : fmt.ratio(a / b));
      const measured = (p: Pair) => p.full.msMedian / p.sd.msMedian;
      const flopFull = flopPerStep(macsPerImage(cost), batchSize);
      const flopSd = flopPerStep(macsPerImage(cost, probs), batchSize);
      const flops = (flop: number, ms: number) => {
        const gflops = flop / ms / 1e6;
        return peak === undefined ? gflops.toFixed(1) : `${gflops.toFixed(1)} (${fmt.ratio(gflops / peak)})`;
      };
      const { height, width, channels } = net.record.input;
      row(`**${net.topology.title}**, batch ${batchSize}, ${height}x${width}x${channels}`, '', '', '');
      row(
        'images/s, full depth',
        fmt.ips(o.full.imagesPerSecond),
        t ? fmt.ips(t.full.imagesPerSecond) : '',
        ipsRatio(o.full.imagesPerSecond, t?.full.imagesPerSecond),
      );
      row(
        `images/s, stochastic depth (linear, p_L = ${survivalProb})`,
        fmt.ips(o.sd.imagesPerSecond),
        t ? fmt.ips(t.sd.imagesPerSecond) : '',
        ipsRatio(o.sd.imagesPerSecond, t?.sd.imagesPerSecond),
      );
      row(
        'ms/step full depth: median [p10, p90]',
        fmt.ms(o.full),
        t ? fmt.ms(t.full) : '',
        ipsRatio(o.full.msMedian, t?.full.msMedian),
      );
      row(
        'ms/step stochastic depth: median [p10, p90]',
        fmt.ms(o.sd),
        t ? fmt.ms(t.sd) : '',
        ipsRatio(o.sd.msMedian, t?.sd.msMedian),
      );
      row(
        `blocks run per step: mean (expected ${expectedDepth(probs).toFixed(2)} of ${probs.length})`,
        o.sd.blocksMean.toFixed(2),
        t ? t.sd.blocksMean.toFixed(2) : '',
      );
      row('speed-up, measured (median full / median SD)', fmt.x(measured(o)), t ? fmt.x(measured(t)) : '');
      row('speed-up, theoretical (C_full / E[C_sd])', fmt.x(theory), t ? fmt.x(theory) : '');
      row(
        'speed-up, theoretical for the blocks that ran',
        fmt.x(realisedSpeedup(cost, o.sd.blocksMean)),
        t ? fmt.x(realisedSpeedup(cost, t.sd.blocksMean)) : '',
      );
      row(
        'measured / theoretical (E[C_sd])',
        fmt.ratio(measured(o) / theory),
        t ? fmt.ratio(measured(t) / theory) : '',
      );
      row(`GFLOP/step: full ${(flopFull / 1e9).toFixed(1)}, SD ${(flopSd / 1e9).toFixed(1)} (expected)`, '', '', '');
      const ofPeak = peak === undefined ? '' : ` (of the ${peakName} GEMM peak)`;
      row(
        `GFLOP/s, full depth${ofPeak}`,
        flops(flopFull, o.full.msMedian),
        t ? flops(flopFull, t.full.msMedian) : '',
        ipsRatio(o.full.imagesPerSecond, t?.full.imagesPerSecond),
      );
      row(
        `GFLOP/s, stochastic depth${ofPeak}`,
        flops(flopSd, o.sd.msMedian),
        t ? flops(flopSd, t.sd.msMedian) : '',
        ipsRatio(o.sd.imagesPerSecond, t?.sd.imagesPerSecond),
      );
      row(
        'peak RSS (each case in a process of its own)',
        fmt.mb(o.peakRssMb),
        t ? fmt.mb(t.peakRssMb) : '',
        ipsRatio(o.peakRssMb, t?.peakRssMb),
      );
    }
    return rows;
  };

  console.log(
    `\nTraining steps on random data, ${warmup} warm-up + ${steps} timed steps per figure and round, ${rounds} round${rounds === 1 ? '' : 's'}; medians. ` +
      `${availableParallelism()} logical CPUs. FLOP/step = 6 x MACs/image x batch (forward + two backward convs), of the blocks that run.\n`,
  );
  if (gemms.length > 0) {
    const last = gemms.at(-1)!;
    const blas = last.openblas
      ? `OpenBLAS (${last.openblas.config.split(' ')[1]}, core ${last.openblas.core}, ${last.openblas.threads} threads)`
      : 'numpy BLAS (not OpenBLAS)';
    const numpyMedian = quantile(
      gemms.map((g) => g.numpy_gflops),
      0.5,
    );
    const torchRuns = gemms.flatMap((g) => (g.torch_gflops === undefined ? [] : [g.torch_gflops]));
    const torchPart =
      torchRuns.length > 0
        ? `, torch.matmul ${quantile(torchRuns, 0.5).toFixed(1)} (${last.torch_threads} threads)`
        : '';
    const pinned = pinnedGemms.at(-1);
    const pinnedPart = pinned
      ? ` With this environment's OPENBLAS_CORETYPE (core ${pinned.openblas?.core ?? '?'}): ${quantile(
          pinnedGemms.map((g) => g.numpy_gflops),
          0.5,
        ).toFixed(1)} GFLOP/s.`
      : '';
    console.log(
      `fp32 GEMM peak: ${peakGflops!.toFixed(1)} GFLOP/s, the best of numpy @ through ${blas} ${numpyMedian.toFixed(1)}${torchPart}; ` +
        `${last.size}x${last.size} float32, median of 5 runs, measured once per round.${pinnedPart}\n`,
    );
  }
  const bf16Peak = bf16Gemms.length > 0 ? quantile(bf16Gemms, 0.5) : undefined;
  if (bf16Peak !== undefined)
    console.log(
      `bf16 GEMM peak: ${bf16Peak.toFixed(1)} GFLOP/s, oneDNN's bf16 matmul (bf16 inputs, fp32 accumulation), median over the rounds.\n`,
    );
  for (const precision of precisions) {
    if (precisions.length > 1) console.log(`\n**${precision}**\n`);
    printTable(tableOf(precision, precision === 'bf16' ? bf16Peak : peakGflops, precision));
  }
  if (precisions.length > 1) {
    // bf16 against fp32, per implementation, and bf16 depthfold against PyTorch's autocast.
    const ratio = (a?: Pair, b?: Pair, k: 'full' | 'sd' = 'full') =>
      a && b ? fmt.ratio(a[k].imagesPerSecond / b[k].imagesPerSecond) : '';
    const summary: string[][] = [
      [
        'network',
        'depthfold bf16 / fp32 (full, SD)',
        'PyTorch bf16 / fp32 (full, SD)',
        'depthfold bf16 / PyTorch bf16 (full, SD)',
      ],
    ];
    for (const net of nets) {
      const [of, ob, tf32, tb] = [
        pairOf('ours', net, 'fp32'),
        pairOf('ours', net, 'bf16'),
        pairOf('torch', net, 'fp32'),
        pairOf('torch', net, 'bf16'),
      ];
      summary.push([
        net.topology.title,
        `${ratio(ob, of)}, ${ratio(ob, of, 'sd')}`,
        tb ? `${ratio(tb, tf32)}, ${ratio(tb, tf32, 'sd')}` : '',
        tb ? `${ratio(ob, tb)}, ${ratio(ob, tb, 'sd')}` : '',
      ]);
    }
    console.log('\nbf16 against fp32, images/s ratios (medians):\n');
    printTable(summary);
  }
  for (const precision of precisions)
    for (const net of nets) {
      const all = kernels.get(`${precision}/${net.key}`);
      if (!all) continue;
      console.log(
        `\n${net.topology.title}, ${precision}, full depth: the ten kernels with the largest share of a step (${profileSteps} steps under tf.profile)\n`,
      );
      const top = all.slice(0, 10);
      const rest = sum(all.slice(10).map((k) => k.share));
      const inKernels = sum(all.map((k) => k.share));
      printTable([
        ['kernel', 'ms/step', 'calls/step', 'share of step'],
        ...top.map((k) => [
          k.name,
          k.msPerStep.toFixed(1),
          k.callsPerStep.toFixed(0),
          `${(100 * k.share).toFixed(1)}%`,
        ]),
        ['other kernels', '', '', `${(100 * rest).toFixed(1)}%`],
        ['outside kernels (JS, tape)', '', '', `${(100 * (1 - inKernels)).toFixed(1)}%`],
      ]);
      const noted = all.filter((k) => k.share > KERNEL_SHARE_NOTED);
      console.log(
        `\nAbove ${100 * KERNEL_SHARE_NOTED}% of a step: ${noted.map((k) => `${k.name} ${(100 * k.share).toFixed(1)}%`).join(', ') || 'none'}`,
      );
    }
  if (backend === 'wasm') {
    // tfjs-backend-wasm 4.x disables its threaded build under Node (flags_wasm.js: WASM_HAS_MULTITHREAD_SUPPORT).
    notes.push('The wasm backend runs XNNPACK on one thread per worker under Node.');
  }
  for (const note of notes) console.log(`\n${note}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
