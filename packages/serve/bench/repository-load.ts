// `pnpm bench:serve --model-repository DIR`: one server over a repository, two of its models loaded at once. The
// server starts with nothing loaded (model control explicit) so that its resident memory can be read from /metrics
// before and after each load: the growth is the RSS each loaded model costs. Then batch-1 JSON requests: 64
// connections to the first model alone (the single-model figure of the same run, the second model loaded and idle),
// then 32 to each at once. Sampled answers are checked against ORT run in this process on the same rows.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { startServerProcess } from './server-process.js';

/** What the repository bench is told. */
export interface RepositoryBenchOptions {
  readonly cli: string;
  readonly root: string;
  /** The two models to load; default the first two of the index. */
  readonly models: readonly string[] | undefined;
  readonly duration: number;
  readonly connections: number;
  /** Extra server flags (batching, threads...). */
  readonly serverArgs: readonly string[];
}

interface Served {
  name: string;
  dims: number[];
  inputName: string;
  outputName: string;
  bodies: string[];
  expected: Float32Array[];
}

interface Measured {
  name: string;
  connections: number;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  checked: number;
  wrong: number;
}

const MIB = 1024 * 1024;

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? Number.NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
}

// Resident memory after the heap settles: a few samples a little apart, the lowest.
async function rss(url: string): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    samples.push(await metric(url, 'process_resident_memory_bytes'));
    await new Promise((r) => setTimeout(r, 200));
  }
  return Math.min(...samples);
}

// The file a model's latest version loads from: `<name>.onnx`, or the highest `<name>/<v>/model.onnx`.
function modelFile(root: string, name: string, version: string): string {
  const flat = join(root, `${name}.onnx`);
  return existsSync(flat) ? flat : join(root, name, version, 'model.onnx');
}

async function prepare(url: string, root: string, name: string): Promise<Served> {
  const meta = (await (await fetch(`${url}/v2/models/${name}`)).json()) as {
    versions: string[];
    inputs: { name: string; shape: number[] }[];
    outputs: { name: string }[];
  };
  const dims = meta.inputs[0]!.shape.slice(1);
  const size = dims.reduce((a, b) => a * b, 1);
  let seed = 12345;
  const rand = (): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const inputs = Array.from({ length: 16 }, () => Float32Array.from({ length: size }, () => (rand() - 0.5) * 4));
  const session = await InferenceSession.create(readFileSync(modelFile(root, name, meta.versions[0]!)));
  const expected: Float32Array[] = [];
  for (const data of inputs) {
    const out = await session.run({ [meta.inputs[0]!.name]: new Tensor('float32', data, [1, ...dims]) });
    expected.push(out[meta.outputs[0]!.name]!.data as Float32Array);
  }
  await session.release();
  return {
    name,
    dims,
    inputName: meta.inputs[0]!.name,
    outputName: meta.outputs[0]!.name,
    expected,
    bodies: inputs.map((data, i) =>
      JSON.stringify({
        id: `bench-${i}`,
        inputs: [
          {
            name: meta.inputs[0]!.name,
            shape: [1, ...dims],
            datatype: 'FP32',
            data: Array.from(data, (v) => Number(v.toPrecision(9))),
          },
        ],
      }),
    ),
  };
}

async function load(
  url: string,
  model: Served,
  connections: number,
  seconds: number,
  measure: boolean,
): Promise<Measured> {
  let checked = 0;
  let wrong = 0;
  const requests = model.bodies.map((body, index) => ({
    method: 'POST' as const,
    path: `/v2/models/${model.name}/infer`,
    body,
    headers: { 'content-type': 'application/json' },
    onResponse: (status: number, text: string) => {
      if (!measure || status !== 200 || checked >= 256 || Math.random() >= 0.05) return;
      checked++;
      const reply = JSON.parse(text) as { id: string; outputs: { data: number[] }[] };
      const want = model.expected[index]!;
      const got = reply.outputs[0]!.data;
      if (
        reply.id !== `bench-${index}` ||
        got.length !== want.length ||
        got.some((v, i) => Math.abs(v - want[i]!) > 1e-4)
      )
        wrong++;
    },
  }));
  const result = await autocannon({ url, connections, duration: seconds, requests });
  return {
    name: model.name,
    connections,
    requestsPerSecond: result['2xx'] / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
    checked,
    wrong,
  };
}

/** Runs the repository bench and prints its table; resolves false when a request failed or an answer was wrong. */
export async function repositoryBench(o: RepositoryBenchOptions): Promise<boolean> {
  const args = [
    o.cli,
    '--model-repository',
    o.root,
    '--model-control-mode',
    'explicit',
    '--port',
    '0',
    ...o.serverArgs,
  ];
  const { url, child, exited } = await startServerProcess(args);
  try {
    const index = (await (await fetch(`${url}/v2/repository/index`, { method: 'POST', body: '{}' })).json()) as {
      name: string;
    }[];
    const names = o.models ?? [...new Set(index.map((e) => e.name))].slice(0, 2);
    if (names.length !== 2) throw new Error(`the repository needs two models; its index: ${JSON.stringify(index)}`);
    const base = await rss(url);
    const perModel: number[] = [];
    let before = base;
    for (const name of names) {
      const reply = await fetch(`${url}/v2/repository/models/${name}/load`, { method: 'POST' });
      if (reply.status !== 200) throw new Error(`load ${name}: ${reply.status} ${await reply.text()}`);
      const after = await rss(url);
      perModel.push(after - before);
      before = after;
    }
    const [a, b] = await Promise.all(names.map((n) => prepare(url, o.root, n)));
    const half = Math.max(1, Math.floor(o.connections / 2));
    // Warm-up, not measured: both models, a second each.
    await Promise.all([load(url, a!, half, 1, false), load(url, b!, half, 1, false)]);
    const single = await load(url, a!, o.connections, o.duration, true);
    const split = await Promise.all([load(url, a!, half, o.duration, true), load(url, b!, half, o.duration, true)]);
    const stats = (await (await fetch(`${url}/v2/models/stats`)).json()) as {
      model_stats: { name: string; inference_count: number; execution_count: number }[];
    };
    child.kill('SIGTERM');
    await exited;

    const mib = (bytes: number): string => (bytes / MIB).toFixed(1);
    const rows: string[][] = [
      [
        'case',
        'model',
        'input',
        'conns',
        'req/s',
        'p50 ms',
        'p99 ms',
        'errors',
        'checked (wrong)',
        'RSS of the loaded model MiB',
      ],
      ...[
        ['one model', single, a!, perModel[0]!],
        ['two models', split[0]!, a!, perModel[0]!],
        ['two models', split[1]!, b!, perModel[1]!],
      ].map(([what, m, s, bytes]) => {
        const r = m as Measured;
        return [
          what as string,
          r.name,
          (s as Served).dims.join('x'),
          String(r.connections),
          r.requestsPerSecond.toFixed(0),
          String(r.p50),
          String(r.p99),
          String(r.errors),
          `${r.checked} (${r.wrong})`,
          mib(bytes as number),
        ];
      }),
      [
        'two models, total',
        `${a!.name} + ${b!.name}`,
        '-',
        String(2 * half),
        (split[0]!.requestsPerSecond + split[1]!.requestsPerSecond).toFixed(0),
        '-',
        String(Math.max(split[0]!.p99, split[1]!.p99)),
        String(split[0]!.errors + split[1]!.errors),
        '-',
        mib(perModel[0]! + perModel[1]!),
      ],
    ];
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    const line = (r: string[]): string => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
    process.stdout.write(
      `bench: repository ${o.root}, ${o.duration} s per case, server RSS with no model loaded ${mib(base)} MiB\n` +
        `\n${line(rows[0]!)}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|\n${rows.slice(1).map(line).join('\n')}\n` +
        `\nserver statistics: ${stats.model_stats.map((s) => `${s.name} ${s.inference_count} inferences in ${s.execution_count} ORT calls (mean ${(s.inference_count / Math.max(1, s.execution_count)).toFixed(1)} rows)`).join('; ')}\n`,
    );
    const all = [single, ...split];
    return all.every((m) => m.errors === 0 && m.wrong === 0 && m.checked > 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}
