// `pnpm bench:infer`: inference speed of the exported ResNet (batch 1 latency p50/p99, batch 64 images/s) in
// onnxruntime-node (CPU): the folded model `pnpm export` writes, the same network unfolded (BatchNormalization and
// the p_l Mul as nodes), each with ORT's graph optimisation on and off; the trained tfjs network (wasm); and a
// reference measured in the same run: the same architecture exported by torch.onnx.export, in the same ORT, and
// PyTorch eager. Every ONNX model is checked against its source network before anything is timed.
//
// The ORT and tfjs configurations are timed interleaved (round-robin chunks), so load from other processes falls
// on all of them alike and their ratios are steadier than their absolute figures; PyTorch eager runs in its own
// process afterwards.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type * as Ort from 'onnxruntime-node';
import type * as Tf from '@tensorflow/tfjs-core';
import { architectureTitle, type Checkpoint, topologyOf } from '@depthfold/core';
import { loadCheckpoint } from '@depthfold/core/node';
import { buildModel, encodeModel, modelMetadata, nhwcToNchw, type ModelProto } from '@depthfold/onnx';
import {
  disposeNetwork,
  fillBatch,
  networkFromTensors,
  runTestSplit,
  selectBackend,
  testLogits,
} from '@depthfold/train';
import { quantile } from './stats.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PYTHON = '/usr/bin/python3';
const TORCH_SCRIPT = join(ROOT, 'tools', 'torch_export_onnx.py');
const DEFAULT_CHECKPOINT = 'runs/resnet20-fashion-mnist/checkpoint.safetensors';
const BIG_BATCH = 64;
const TOLERANCE = 1e-4;
const TARGET_IMAGES_PER_SECOND = 3000;
/** "Within noise" for the folded-vs-unfolded check with optimisation on: folded may be this much slower (median). */
const NOISE = 0.05;

// The workspace root depends on no runtime: take onnxruntime-node and tfjs-core from the packages that own them
// (tfjs-core from @depthfold/train's, so that it is the very instance holding the wasm backend).
const ort = createRequire(join(ROOT, 'packages/onnx/package.json'))('onnxruntime-node') as typeof Ort;
const tf = createRequire(join(ROOT, 'packages/train/package.json'))('@tensorflow/tfjs-core') as typeof Tf;

const HELP = `Usage: pnpm bench:infer [options]

  --checkpoint <path>   trained checkpoint (default ${DEFAULT_CHECKPOINT}, from \`pnpm train\`)
  --runs <n>            timed runs at batch 1, per configuration (default 200; p99 wants >= 100)
  --runs-64 <n>         timed runs at batch ${BIG_BATCH}, per configuration (default 30)
  --warmup <n>          untimed runs per configuration and batch size first (default 10)
  --quick               --runs 50 --runs-64 5 --warmup 3 (a smoke run: too few for the checks to mean much)
  --torch-threads <l>   torch.set_num_threads of PyTorch eager, a comma-separated list: one row each (default 2,1;
                        on a loaded machine 2 OpenMP threads can be many times slower than 1)
  --no-torch            skip the PyTorch reference
  --help                this text
`;

interface Options {
  checkpoint: string;
  runs: number;
  runs64: number;
  warmup: number;
  torchThreads: number[];
  torch: boolean;
}

/** One timed configuration: runs one forward pass of the batch size given (inputs prepared beforehand). */
interface Runner {
  name: string;
  run(batch: 1 | typeof BIG_BATCH): Promise<void>;
}

/** Milliseconds per run, at batch 1 and at the big batch. */
interface Timings {
  batch1: number[];
  big: number[];
}

/** Normalised test images, NHWC for tfjs and NCHW for ONNX. */
interface Inputs {
  nhwc: Float32Array;
  nchw: Float32Array;
  /** [channels, height, width] of one image. */
  chw: [number, number, number];
}

// ---- options ----

function parseOptions(argv: string[]): Options | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      checkpoint: { type: 'string', default: DEFAULT_CHECKPOINT },
      runs: { type: 'string' },
      'runs-64': { type: 'string' },
      warmup: { type: 'string' },
      quick: { type: 'boolean', default: false },
      'torch-threads': { type: 'string', default: '2,1' },
      'no-torch': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) return 'help';
  const int = (name: string, text: string | undefined, fallback: number, min: number): number => {
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name}: expected an integer >= ${min}, received ${text}`);
    return n;
  };
  const q = values.quick;
  return {
    checkpoint: values.checkpoint,
    runs: int('runs', values.runs, q ? 50 : 200, 1),
    runs64: int('runs-64', values['runs-64'], q ? 5 : 30, 1),
    warmup: int('warmup', values.warmup, q ? 3 : 10, 0),
    torchThreads: values['torch-threads'].split(',').map((t) => int('torch-threads', t.trim(), 2, 1)),
    torch: !values['no-torch'],
  };
}

async function loadTrained(path: string): Promise<Checkpoint & { sha256: string }> {
  if (!existsSync(path)) throw new Error(`no checkpoint at ${path}: run \`pnpm train\` first (or pass --checkpoint)`);
  return loadCheckpoint(path);
}

// ---- statistics ----

const median = (values: readonly number[]) => quantile(values, 0.5);
const imagesPerSecond = (t: Timings) => (BIG_BATCH * 1000) / median(t.big);

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`logit arrays differ in length: ${a.length} vs ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

// ---- inputs and models ----

async function testImages(checkpoint: Checkpoint, runDir: string, count: number): Promise<Inputs> {
  const { normalization, architecture } = checkpoint.info;
  const { height, width, channels } = architecture.input;
  // The run's test images as it evaluated them (resized where it was; a folder run's recorded test files).
  const { split } = await runTestSplit(checkpoint.info, runDir);
  const nhwc = new Float32Array(count * height * width * channels);
  fillBatch(
    split,
    Array.from({ length: count }, (_, i) => i),
    nhwc,
    normalization,
  );
  const nchw = nhwcToNchw({ shape: [count, height, width, channels], data: nhwc }).data;
  return { nhwc, nchw, chw: [channels, height, width] };
}

function exportBytes(checkpoint: Checkpoint & { sha256: string }, folded: boolean): { bytes: Uint8Array; ops: string } {
  const model = buildModel(checkpoint, modelMetadata(checkpoint, checkpoint.sha256, folded), { folded });
  return { bytes: encodeModel(model), ops: operatorCounts(model) };
}

function operatorCounts(model: ModelProto): string {
  const counts = new Map<string, number>();
  for (const node of model.graph?.node ?? [])
    counts.set(node.op_type ?? '?', (counts.get(node.op_type ?? '?') ?? 0) + 1);
  return formatCounts(Object.fromEntries(counts));
}

const formatCounts = (counts: Record<string, number>) =>
  Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .map(([op, n]) => `${op} ${n}`)
    .join(', ');

type OptLevel = 'all' | 'disabled';

async function ortSession(bytes: Uint8Array, level: OptLevel): Promise<Ort.InferenceSession> {
  // intraOpNumThreads left at its default (0: ORT picks one thread per physical core).
  return ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], graphOptimizationLevel: level });
}

async function ortLogits(
  session: Ort.InferenceSession,
  nchw: Float32Array,
  chw: readonly number[],
): Promise<Float32Array> {
  const n = nchw.length / (chw[0]! * chw[1]! * chw[2]!);
  const out = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', nchw, [n, ...chw]) });
  return out[session.outputNames[0]!]!.data as Float32Array;
}

/** A runner over an ORT session, its input tensors made once. */
function ortRunner(name: string, session: Ort.InferenceSession, inputs: Inputs): Runner {
  const imageSize = inputs.chw[0] * inputs.chw[1] * inputs.chw[2];
  const feeds = (n: number) => ({
    [session.inputNames[0]!]: new ort.Tensor('float32', inputs.nchw.subarray(0, n * imageSize), [n, ...inputs.chw]),
  });
  const byBatch = { 1: feeds(1), [BIG_BATCH]: feeds(BIG_BATCH) };
  return {
    name,
    run: async (batch) => {
      await session.run(byBatch[batch]);
    },
  };
}

/** A runner over the trained tfjs network (built once), reading the logits back so the work is done. */
function tfjsRunner(
  name: string,
  checkpoint: Checkpoint,
  inputs: Inputs,
): Runner & { logits(): Promise<Float32Array>; dispose(): void } {
  const probs = checkpoint.info.schedule.survivalProbs;
  const net = networkFromTensors(topologyOf(checkpoint.info.architecture), checkpoint.params);
  const [c, h, w] = inputs.chw;
  const images = (n: number) => tf.tensor4d(inputs.nhwc.subarray(0, n * h * w * c), [n, h, w, c]);
  const byBatch = { 1: images(1), [BIG_BATCH]: images(BIG_BATCH) };
  const logits = async (batch: 1 | typeof BIG_BATCH) => {
    const out = testLogits(net, byBatch[batch], probs);
    const data = (await out.data()) as Float32Array;
    out.dispose();
    return data;
  };
  return {
    name,
    run: async (batch) => void (await logits(batch)),
    logits: () => logits(BIG_BATCH),
    dispose: () => {
      byBatch[1].dispose();
      byBatch[BIG_BATCH].dispose();
      disposeNetwork(net);
    },
  };
}

// ---- PyTorch reference ----

function torchUnavailable(): string | undefined {
  const r = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (r.error) return `${PYTHON} did not start (${r.error.message})`;
  if (r.status !== 0) return `${PYTHON} -c "import torch" failed: ${r.stderr.trim().split('\n').at(-1)}`;
  return undefined;
}

/**
 * The script's architecture arguments, from the checkpoint (so the reference is the same network). The export script
 * writes ResNet-(6n+2) alone: another family is refused here, by name.
 */
function torchArchArgs(checkpoint: Checkpoint): string[] {
  const { architecture: a, schedule: s } = checkpoint.info;
  // A first-format record names the family resnet-6n+2: the topology resolves the alias.
  const topology = topologyOf(a);
  if (topology.family !== 'resnet-cifar')
    throw new Error(
      `the PyTorch reference of bench:infer is ResNet-(6n+2) (resnet-cifar); this checkpoint is ${topology.title}: use --no-torch`,
    );
  return [
    '--depth',
    String(a.depth),
    '--shortcut',
    String(a.shortcut),
    '--classes',
    String(a.numClasses),
    '--input',
    `${a.input.channels},${a.input.height},${a.input.width}`,
    '--rule',
    s.rule,
    '--survival-prob',
    String(s.survivalProb),
  ];
}

function runPython<T>(args: string[]): T {
  const r = spawnSync(PYTHON, [TORCH_SCRIPT, ...args], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`torch_export_onnx.py ${args[0]} failed (${r.status}): ${r.stderr.trim()}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as T;
}

interface TorchExport {
  bytes: Uint8Array;
  /** PyTorch eager's logits of the probe images, to check the ORT run of the export against. */
  eagerLogits: Float32Array;
  ops: string;
  version: string;
}

function torchExport(checkpoint: Checkpoint, probe: Float32Array): TorchExport {
  const dir = mkdtempSync(join(tmpdir(), 'depthfold-bench-infer-'));
  try {
    const [model, probeIn, probeOut] = ['reference.onnx', 'probe.f32', 'logits.f32'].map((f) => join(dir, f)) as [
      string,
      string,
      string,
    ];
    writeFileSync(probeIn, probe);
    const info = runPython<{ torch_version: string; operators: Record<string, number> | null }>([
      '--export-onnx',
      model,
      '--probe',
      probeIn,
      '--probe-logits',
      probeOut,
      ...torchArchArgs(checkpoint),
    ]);
    const logits = readFileSync(probeOut);
    return {
      bytes: new Uint8Array(readFileSync(model)),
      eagerLogits: new Float32Array(logits.buffer, logits.byteOffset, logits.byteLength / 4),
      ops: info.operators ? formatCounts(info.operators) : '(python3-onnx not installed)',
      version: info.torch_version,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function torchEager(checkpoint: Checkpoint, options: Options, threads: number): Timings & { threads: number } {
  const r = runPython<{ ms_batch_1: number[]; ms_batch_64: number[]; threads: number }>([
    '--bench',
    '--threads',
    String(threads),
    '--warmup',
    String(options.warmup),
    '--runs-1',
    String(options.runs),
    '--runs-64',
    String(options.runs64),
    ...torchArchArgs(checkpoint),
  ]);
  return { batch1: r.ms_batch_1, big: r.ms_batch_64, threads: r.threads };
}

// ---- timing ----

async function timeRun(runner: Runner, batch: 1 | typeof BIG_BATCH): Promise<number> {
  const start = performance.now();
  await runner.run(batch);
  return performance.now() - start;
}

/**
 * `runs` timed runs of every runner at `batch`, after `warmup` untimed ones, interleaved: round after round, each
 * runner does `chunk` runs in turn. The order rotates every round, and a chunk of several runs starts with one
 * untimed run, so that no runner always pays for following another (cold caches, ORT's threads gone to sleep).
 */
async function measureInterleaved(
  runners: readonly Runner[],
  batch: 1 | typeof BIG_BATCH,
  runs: number,
  warmup: number,
  chunk: number,
): Promise<Map<string, number[]>> {
  const times = new Map(runners.map((r) => [r.name, [] as number[]]));
  for (const r of runners) for (let i = 0; i < warmup; i++) await r.run(batch);
  for (let round = 0, done = 0; done < runs; round++, done += chunk) {
    for (let k = 0; k < runners.length; k++) {
      const r = runners[(round + k) % runners.length]!;
      if (chunk > 1) await r.run(batch);
      for (let i = 0; i < Math.min(chunk, runs - done); i++) times.get(r.name)!.push(await timeRun(r, batch));
    }
  }
  return times;
}

async function measureAll(runners: readonly Runner[], options: Options): Promise<Map<string, Timings>> {
  console.error(
    `timing batch 1: ${runners.length} configurations x ${options.warmup} + ${options.runs} runs, interleaved...`,
  );
  const b1 = await measureInterleaved(runners, 1, options.runs, options.warmup, 10);
  console.error(
    `timing batch ${BIG_BATCH}: ${runners.length} configurations x ${options.warmup} + ${options.runs64} runs, interleaved...`,
  );
  const big = await measureInterleaved(runners, BIG_BATCH, options.runs64, Math.min(options.warmup, 3), 1);
  return new Map(runners.map((r) => [r.name, { batch1: b1.get(r.name)!, big: big.get(r.name)! }]));
}

// ---- report ----

function printTable(rows: string[][]): void {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) =>
    `| ${r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join(' | ')} |`;
  console.log(line(rows[0]!));
  console.log(`|${widths.map((w, c) => (c === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const r of rows.slice(1)) console.log(line(r));
}

function resultRows(results: Map<string, Timings>, reference: string | undefined): string[][] {
  const ref = reference === undefined ? undefined : results.get(reference);
  const rows = [
    [
      'configuration',
      'batch-1 p50 ms',
      'batch-1 p99 ms',
      `batch-${BIG_BATCH} img/s`,
      'batch-1 speed / ref',
      `batch-${BIG_BATCH} img/s / ref`,
    ],
  ];
  for (const [name, t] of results) {
    rows.push([
      name === reference ? `${name} (ref)` : name,
      median(t.batch1).toFixed(2),
      quantile(t.batch1, 0.99).toFixed(2),
      imagesPerSecond(t).toFixed(0),
      ref ? (median(ref.batch1) / median(t.batch1)).toFixed(2) : '-',
      ref ? (imagesPerSecond(t) / imagesPerSecond(ref)).toFixed(2) : '-',
    ]);
  }
  return rows;
}

/** Median and interquartile range of a ratio. */
interface Spread {
  median: number;
  p25: number;
  p75: number;
}

/**
 * How much faster `fast` is than `slow`: the ratios slow_i / fast_i over interleaved rounds. The two runs of a pair
 * are close in time, so load that drifts over the run cancels out of each ratio.
 */
function pairedSpeedup(fast: readonly number[], slow: readonly number[]): Spread {
  const ratios = fast.map((f, i) => slow[i]! / f);
  return { median: median(ratios), p25: quantile(ratios, 0.25), p75: quantile(ratios, 0.75) };
}

const formatSpread = (s: Spread) =>
  `${s.median.toFixed(3)} [IQR ${s.p25.toFixed(2)}, ${s.p75.toFixed(2)}${s.p25 < 1 && s.p75 > 1 ? ': spans 1, within noise' : ''}]`;

type CheckedName = 'foldedOn' | 'foldedOff' | 'unfoldedOn' | 'unfoldedOff';

/** Folded-over-unfolded speed at one optimisation level, paired, at both batch sizes. */
function foldedVsUnfolded(
  results: Map<string, Timings>,
  folded: string,
  unfolded: string,
): { big: Spread; text: string } {
  const f = results.get(folded)!;
  const u = results.get(unfolded)!;
  const big = pairedSpeedup(f.big, u.big);
  const ofMedians = imagesPerSecond(f) / imagesPerSecond(u);
  return {
    big,
    text:
      `folded/unfolded speed, median of paired ratios: batch ${BIG_BATCH} ${formatSpread(big)} ` +
      `(ratio of the img/s medians ${ofMedians.toFixed(3)}); batch 1 ${formatSpread(pairedSpeedup(f.batch1, u.batch1))}`,
  };
}

function printChecks(
  results: Map<string, Timings>,
  names: Record<CheckedName, string>,
  references: readonly string[],
): boolean {
  const on = foldedVsUnfolded(results, names.foldedOn, names.unfoldedOn);
  const off = foldedVsUnfolded(results, names.foldedOff, names.unfoldedOff);
  const folded = imagesPerSecond(results.get(names.foldedOn)!);
  const refText = references.map((n) => `${n} ${imagesPerSecond(results.get(n)!).toFixed(0)} img/s`).join('; ');
  const checks: [boolean, string, string][] = [
    [
      on.big.median >= 1 - NOISE || on.big.p75 >= 1,
      `folded >= unfolded, optimisation on (within noise: median >= ${1 - NOISE} or upper quartile >= 1)`,
      on.text,
    ],
    [off.big.median > 1, 'folded faster than unfolded, optimisation off', off.text],
    [
      folded >= TARGET_IMAGES_PER_SECOND,
      `folded >= ${TARGET_IMAGES_PER_SECOND} img/s at batch ${BIG_BATCH}, optimisation on: ${folded.toFixed(0)} img/s`,
      `measured here: ${refText || 'no PyTorch reference'}`,
    ],
  ];
  console.log('\nTargets (ratios > 1: folded faster):');
  for (const [ok, title, detail] of checks) console.log(`  ${ok ? 'PASS' : 'FAIL'}  ${title}\n        ${detail}`);
  return checks.every(([ok]) => ok);
}

// ---- main ----

function verify(label: string, got: Float32Array, expected: Float32Array): void {
  const diff = maxAbsDiff(got, expected);
  console.log(
    `verify: ${label}: max |logit difference| ${diff.toExponential(2)} (tolerance ${TOLERANCE.toExponential(0)})`,
  );
  if (!(diff < TOLERANCE)) throw new Error(`${label} disagrees with its source network; not timing a wrong model`);
}

const NAMES = {
  foldedOn: 'ORT folded, opt all',
  foldedOff: 'ORT folded, opt disabled',
  unfoldedOn: 'ORT unfolded, opt all',
  unfoldedOff: 'ORT unfolded, opt disabled',
  reference: 'ORT PyTorch export, opt all',
} as const;

/** The exports `pnpm export` makes (folded) and `--unfolded` makes, each in a session per optimisation level. */
async function depthfoldSessions(
  checkpoint: Checkpoint & { sha256: string },
): Promise<{ sessions: Map<string, Ort.InferenceSession>; ops: Record<'folded' | 'unfolded', string> }> {
  const sessions = new Map<string, Ort.InferenceSession>();
  const ops = { folded: '', unfolded: '' };
  for (const kind of ['folded', 'unfolded'] as const) {
    const model = exportBytes(checkpoint, kind === 'folded');
    ops[kind] = model.ops;
    for (const level of ['all', 'disabled'] as const)
      sessions.set(`ORT ${kind}, opt ${level}`, await ortSession(model.bytes, level));
  }
  return { sessions, ops };
}

/** Exports the PyTorch reference, adds its sessions to `sessions`, and checks them against PyTorch eager. */
async function addTorchReference(
  checkpoint: Checkpoint,
  inputs: Inputs,
  sessions: Map<string, Ort.InferenceSession>,
): Promise<TorchExport> {
  console.error('PyTorch: exporting the reference...');
  const exported = torchExport(checkpoint, inputs.nchw);
  for (const level of ['all', 'disabled'] as const) {
    const name = `ORT PyTorch export, opt ${level}`;
    sessions.set(name, await ortSession(exported.bytes, level));
    const got = await ortLogits(sessions.get(name)!, inputs.nchw, inputs.chw);
    verify(`${name} vs PyTorch eager (random weights; not comparable to tfjs)`, got, exported.eagerLogits);
  }
  return exported;
}

/** PyTorch eager at each thread count, one row each. */
function measureEager(
  checkpoint: Checkpoint,
  options: Options,
  version: string,
  results: Map<string, Timings>,
): string[] {
  return options.torchThreads.map((threads) => {
    console.error(
      `PyTorch eager, ${threads} thread(s): ${options.warmup} + ${options.runs} runs at batch 1, ${options.runs64} at batch ${BIG_BATCH}...`,
    );
    const t = torchEager(checkpoint, options, threads);
    const name = `PyTorch ${version} eager (${t.threads} thread${t.threads === 1 ? '' : 's'})`;
    results.set(name, t);
    return name;
  });
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (options === 'help') {
    console.log(HELP);
    return;
  }
  const checkpoint = await loadTrained(options.checkpoint);
  const backend = await selectBackend('wasm');
  const inputs = await testImages(checkpoint, dirname(options.checkpoint), BIG_BATCH);

  const { sessions, ops } = await depthfoldSessions(checkpoint);
  const tfjs = tfjsRunner(`tfjs ${backend.name} (trained network)`, checkpoint, inputs);
  const expected = await tfjs.logits();
  for (const [name, session] of sessions)
    verify(`${name} vs tfjs, ${BIG_BATCH} test images`, await ortLogits(session, inputs.nchw, inputs.chw), expected);
  const torchSkip = options.torch ? torchUnavailable() : '--no-torch';
  const torch = torchSkip === undefined ? await addTorchReference(checkpoint, inputs, sessions) : undefined;

  const results = await measureAll([...[...sessions].map(([name, s]) => ortRunner(name, s, inputs)), tfjs], options);
  const eager = torch ? measureEager(checkpoint, options, torch.version, results) : [];
  tfjs.dispose();
  for (const s of sessions.values()) await s.release();

  const { architecture: arch, config } = checkpoint.info;
  const reference = torch ? NAMES.reference : undefined;
  console.log(
    `\n${architectureTitle(arch)}, input ${arch.input.height}x${arch.input.width}x${arch.input.channels}, ${arch.numClasses} classes, ${config.dataset} test images; ` +
      `batch 1: ${options.warmup} + ${options.runs} runs, batch ${BIG_BATCH}: ${options.runs64} runs; medians. ` +
      `onnxruntime-node ${ort.env.versions.common}, CPU provider, intraOpNumThreads default (0: one thread per physical core; ` +
      `${availableParallelism()} logical CPUs here). Ratios > 1: faster than the reference.\n`,
  );
  printTable(resultRows(results, reference));
  console.log(`\nGraphs: folded: ${ops.folded}\n        unfolded: ${ops.unfolded}`);
  if (torch)
    console.log(
      `        PyTorch export (torch.onnx.export, eval mode, opset 17; BN fused by the exporter): ${torch.ops}`,
    );
  if (torchSkip !== undefined) console.log(`\nPyTorch reference skipped: ${torchSkip}`);
  console.log(
    `Note: tfjs ${backend.name} runs one thread under Node; PyTorch eager ran in its own process after the interleaved runs.`,
  );

  const ok = printChecks(results, NAMES, [...(reference ? [reference] : []), ...eager]);
  if (!ok) console.log('\n(a benchmark: a FAIL is reported, not an error exit)');
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
