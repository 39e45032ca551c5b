// `pnpm bench:train`: training throughput of ResNet-20 and ResNet-56 at full depth and with stochastic depth
// (linear rule, p_L = 0.5), the measured speed-up against the theoretical one of the schedule, and optionally the
// same figures from the PyTorch reference (tools/torch_reference.py), in one table.
//
// Theoretical speed-up = C_full / E[C_sd], in multiply-accumulates per image (computeCost):
//   C_full = stem + sum_l (branch_l + shortcut_l) + head,   E[C_sd] = stem + sum_l (p_l * branch_l + shortcut_l) + head
// (forward and backward scale alike, so the ratio holds for a whole training step). A second figure charges the blocks
// that ran in the timed steps (mean count) with the mean branch cost, since 20 steps of gates need not match E[.].
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  computeCost,
  residualLayers,
  resolveArchitecture,
  survivalProbs,
  topologyOf,
  expectedDepth,
  type SurvivalRule,
} from '@depthfold/core';
import { measureTrainSteps, type KernelShare, type MeasureResult } from '@depthfold/train';
import { quantile } from './stats.js';

const PYTHON = '/usr/bin/python3';
const TORCH_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'torch_reference.py');
const INPUT = { height: 28, width: 28, channels: 1 };
const NUM_CLASSES = 10;

const HELP = `Usage: pnpm bench:train [options]

  --backend <name>        tfjs backend: auto, tensorflow-gpu, tensorflow, onednn, wasm, cpu (default auto)
  --depths <list>         network depths, comma-separated (default 20,56)
  --batch-size <n>        images per step (default 128)
  --survival-prob <p>     p_L of the linear rule for the stochastic-depth runs (default 0.5)
  --warmup <n>            untimed steps before timing (default 3)
  --steps <n>             timed steps, at least 20 for the spread to mean something (default 20)
  --workers <n>           data-parallel workers, where the engine has them (default: the engine's own)
  --threads <n>           onednn's OpenMP threads per worker (default: the cores shared among the workers)
  --rounds <n>            rounds of every case, depthfold and PyTorch alternating (default 1)
  --profile <n>           steps profiled kernel by kernel after the timed ones, for the top-10 table (default 3; 0: none)
  --seed <n>              seed of weights, data and gates (default 1)
  --compare-torch         also run tools/torch_reference.py --bench for the same nets (needs ${PYTHON} with torch)
  --torch-threads <n>     torch.set_num_threads for the PyTorch runs (default 2)
  --help                  this text
`;

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
  /** The kernels of a profiled full-depth step, largest share first (depthfold only). */
  kernels?: KernelShare[];
}

/** The `--bench` JSON of tools/torch_reference.py (the fields read here). */
interface TorchBench {
  ms_per_step: number[];
  blocks_run: number[];
  threads: number;
  torch_version: string;
  peak_rss_mb: number;
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

/** Theoretical speed-ups of the schedule, from the per-part compute cost of the network. */
function theoreticalSpeedups(
  depth: number,
  probs: readonly number[],
  blocksRunMean: number,
): { expected: number; realised: number } {
  const cost = computeCost(
    topologyOf(resolveArchitecture({ arch: 'resnet20', overrides: { depth } }, INPUT, NUM_CLASSES)),
  );
  const fixed = cost.stem + cost.head + cost.shortcuts.reduce((a, b) => a + b, 0);
  const branches = cost.branches.reduce((a, b) => a + b, 0);
  const full = fixed + branches;
  const expected = fixed + cost.branches.reduce((sum, b, i) => sum + probs[i]! * b, 0);
  // The blocks that ran are known by count only: each is charged the mean branch cost.
  const realised = fixed + (blocksRunMean / cost.branches.length) * branches;
  return { expected: full / expected, realised: full / realised };
}

function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024; // maxRSS is in KiB
}

/** Whether the Python interpreter can import torch, and why not if it cannot. */
function torchAvailable(): { ok: boolean; reason: string } {
  const r = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (r.error) return { ok: false, reason: `${PYTHON} did not start (${r.error.message})` };
  if (r.status !== 0)
    return { ok: false, reason: `${PYTHON} -c "import torch" failed: ${r.stderr.trim().split('\n').at(-1)}` };
  return { ok: true, reason: '' };
}

function runTorch(args: {
  depth: number;
  rule: SurvivalRule;
  survivalProb: number;
  batchSize: number;
  warmup: number;
  steps: number;
  threads: number;
  seed: number;
}): TorchBench {
  const argv = [
    TORCH_SCRIPT,
    '--bench',
    '--depth',
    String(args.depth),
    '--rule',
    args.rule,
    '--survival-prob',
    String(args.survivalProb),
    '--batch-size',
    String(args.batchSize),
    '--warmup',
    String(args.warmup),
    '--steps',
    String(args.steps),
    '--threads',
    String(args.threads),
    '--seed',
    String(args.seed),
  ];
  const r = spawnSync(PYTHON, argv, { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`torch_reference.py --bench failed (${r.status}): ${r.stderr.trim()}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as TorchBench;
}

const fmt = {
  ips: (v: number) => v.toFixed(1),
  ms: (t: Timing) => `${t.msMedian.toFixed(0)} [${t.msP10.toFixed(0)}, ${t.msP90.toFixed(0)}]`,
  x: (v: number) => `${v.toFixed(2)}x`,
  ratio: (v: number) => v.toFixed(2),
  mb: (v: number) => `${v.toFixed(0)} MB`,
};

/** Prints rows of cells as a Markdown table with padded columns. */
function printTable(rows: string[][]): void {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ')} |`;
  console.log(line(rows[0]!));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows.slice(1)) console.log(line(r));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      backend: { type: 'string', default: 'auto' },
      depths: { type: 'string', default: '20,56' },
      'batch-size': { type: 'string', default: '128' },
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
  const depths = values.depths.split(',').map((d) => int('depths', d.trim(), 8));
  const batchSize = int('batch-size', values['batch-size'], 1);
  const warmup = int('warmup', values.warmup, 0);
  const steps = int('steps', values.steps, 1);
  const seed = int('seed', values.seed, 0);
  const torchThreads = int('torch-threads', values['torch-threads'], 1);
  const workers = values.workers === undefined ? undefined : int('workers', values.workers, 1);
  const threads = int('threads', values.threads, 0);
  const profileSteps = int('profile', values.profile, 0);
  const rounds = int('rounds', values.rounds, 1);
  const survivalProb = Number(values['survival-prob']);
  if (!(survivalProb > 0 && survivalProb <= 1))
    throw new Error(`--survival-prob: expected a number in (0, 1], received ${values['survival-prob']}`);
  if (steps < 20) console.error(`note: --steps ${steps} is below 20; the p10/p90 spread is rough`);

  // Load from other processes moves step times by 2x on a shared machine, so the two implementations alternate,
  // case by case, over the rounds, and each figure is the median of all its rounds' steps.
  const available = values['compare-torch'] ? torchAvailable() : { ok: false, reason: '' };
  const torchNote = values['compare-torch'] && !available.ok ? `PyTorch comparison skipped: ${available.reason}` : '';
  const samples = new Map<string, { ms: number[]; blocks: number[]; rss: number }>();
  const record = (key: string, ms: readonly number[], blocks: readonly number[], rss: number) => {
    const s = samples.get(key) ?? { ms: [], blocks: [], rss: 0 };
    s.ms.push(...ms);
    s.blocks.push(...blocks);
    s.rss = Math.max(s.rss, rss);
    samples.set(key, s);
  };
  const kernels = new Map<number, KernelShare[]>();
  let backend = '';
  let workersUsed = 1;
  let torchLabel = '';
  for (let round = 1; round <= rounds; round++) {
    for (const depth of depths) {
      for (const [key, rule] of [
        ['full', 'none'],
        ['sd', 'linear'],
      ] as const) {
        const label = `ResNet-${depth}, ${rule === 'none' ? 'full depth' : `linear p_L = ${survivalProb}`}, ${warmup} + ${steps} steps, round ${round} of ${rounds}`;
        console.error(`depthfold: ${label}...`);
        const r: MeasureResult = await measureTrainSteps({
          depth,
          survivalRule: rule,
          survivalProb,
          batchSize,
          warmup,
          steps,
          backend: values.backend,
          seed,
          threads,
          profileSteps: key === 'full' && round === rounds ? profileSteps : 0,
          ...(workers === undefined ? {} : { workers }),
        });
        backend = r.backend;
        workersUsed = r.workers;
        // maxRSS is the process's peak so far (worker threads included): cumulative over the nets measured.
        record(`ours/${depth}/${key}`, r.msPerStep, r.blocksRun, peakRssMb());
        if (r.kernels.length > 0) kernels.set(depth, r.kernels);
        if (!available.ok) continue;
        console.error(`PyTorch: ${label}...`);
        const t = runTorch({ depth, rule, survivalProb, batchSize, warmup, steps, threads: torchThreads, seed });
        torchLabel = `PyTorch ${t.torch_version} (CPU, ${t.threads} threads)`;
        record(`torch/${depth}/${key}`, t.ms_per_step, t.blocks_run, t.peak_rss_mb);
      }
    }
  }
  const pairOf = (who: 'ours' | 'torch', depth: number): Pair | undefined => {
    const full = samples.get(`${who}/${depth}/full`);
    const sd = samples.get(`${who}/${depth}/sd`);
    if (!full || !sd) return undefined;
    const k = who === 'ours' ? kernels.get(depth) : undefined;
    return {
      full: timing(full.ms, full.blocks, batchSize),
      sd: timing(sd.ms, sd.blocks, batchSize),
      peakRssMb: Math.max(full.rss, sd.rss),
      ...(k ? { kernels: k } : {}),
    };
  };
  const ours = new Map(depths.map((d) => [d, pairOf('ours', d)!] as const));
  const torch = new Map(
    depths.flatMap((d) => {
      const p = pairOf('torch', d);
      return p ? [[d, p] as const] : [];
    }),
  );

  const withTorch = torch.size > 0;
  const header = ['figure', `depthfold (${backend}, ${workersUsed} worker${workersUsed === 1 ? '' : 's'})`];
  if (withTorch) header.push(torchLabel, 'depthfold / PyTorch');
  const rows: string[][] = [header];
  const row = (label: string, ourCell: string, torchCell = '', ratio = '') =>
    rows.push(withTorch ? [label, ourCell, torchCell, ratio] : [label, ourCell]);
  for (const depth of depths) {
    const o = ours.get(depth)!;
    const t = torch.get(depth);
    const probs = survivalProbs(
      'linear',
      residualLayers(topologyOf(resolveArchitecture({ arch: 'resnet20', overrides: { depth } }, INPUT, NUM_CLASSES)))
        .length,
      survivalProb,
    );
    const theory = theoreticalSpeedups(depth, probs, o.sd.blocksMean);
    const torchTheory = t ? theoreticalSpeedups(depth, probs, t.sd.blocksMean) : undefined;
    const ipsRatio = (a: number, b?: number) => (b === undefined ? '' : fmt.ratio(a / b));
    const measured = (p: Pair) => p.full.msMedian / p.sd.msMedian;
    row(`**ResNet-${depth}**, batch ${batchSize}, ${INPUT.height}x${INPUT.width}x${INPUT.channels}`, '', '', '');
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
    row('speed-up, theoretical (C_full / E[C_sd])', fmt.x(theory.expected), t ? fmt.x(theory.expected) : '');
    row(
      'speed-up, theoretical for the blocks that ran',
      fmt.x(theory.realised),
      torchTheory ? fmt.x(torchTheory.realised) : '',
    );
    row(
      'measured / theoretical (E[C_sd])',
      fmt.ratio(measured(o) / theory.expected),
      t ? fmt.ratio(measured(t) / theory.expected) : '',
    );
    row(
      'peak RSS (depthfold: process so far; PyTorch: per run)',
      fmt.mb(o.peakRssMb),
      t ? fmt.mb(t.peakRssMb) : '',
      ipsRatio(o.peakRssMb, t?.peakRssMb),
    );
  }
  console.log(
    `\nTraining steps on random data, ${warmup} warm-up + ${steps} timed steps per figure and round, ${rounds} round${rounds === 1 ? '' : 's'}; medians.\n`,
  );
  printTable(rows);
  for (const [depth, o] of ours) {
    if (!o.kernels) continue;
    console.log(
      `\nResNet-${depth}, full depth: the ten kernels with the largest share of a step (${profileSteps} steps under tf.profile)\n`,
    );
    const top = o.kernels.slice(0, 10);
    const rest = o.kernels.slice(10).reduce((sum, k) => sum + k.share, 0);
    const inKernels = o.kernels.reduce((sum, k) => sum + k.share, 0);
    printTable([
      ['kernel', 'ms/step', 'calls/step', 'share of step'],
      ...top.map((k) => [k.name, k.msPerStep.toFixed(1), k.callsPerStep.toFixed(0), `${(100 * k.share).toFixed(1)}%`]),
      ['other kernels', '', '', `${(100 * rest).toFixed(1)}%`],
      ['outside kernels (JS, tape)', '', '', `${(100 * (1 - inKernels)).toFixed(1)}%`],
    ]);
  }
  if (backend === 'wasm') {
    // tfjs-backend-wasm 4.x disables its threaded build under Node (flags_wasm.js: WASM_HAS_MULTITHREAD_SUPPORT).
    console.log(`\nNote: the wasm backend runs XNNPACK on one thread per worker under Node.`);
  }
  if (torchNote) console.log(`\n${torchNote}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
