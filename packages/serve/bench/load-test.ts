// `pnpm bench:serve`: a load test of `pnpm serve` from a second process (this one, with autocannon for HTTP, and
// h2load (bench/grpc-h2load.ts) or else bench/grpc-load.ts for gRPC) on loopback. Batch-1 FP32 requests as JSON, as
// binary tensor data (binary input, JSON output, so that sampled answers are checked the same way) and over gRPC
// (raw contents), at 1, 8 and 64 connections, with dynamic batching (and optionally without), each against a fresh
// server; the server's CPU per request comes from its own /metrics; the ceiling is the same model run directly in
// this process at batch 64 (the median of windows measured between the cases). Sampled answers are checked against
// ORT on the same rows. Prints a table of throughput and p50/p99 latency beside their references, and the time each
// request spent in the server's batcher.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { SHIPPED_MODEL } from '@depthfold/core';
import { readModelMetadata } from '@depthfold/onnx';
import { quantile } from '../../../tools/stats.js';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { grpcFrameOf, h2loadGrpc, h2loadMissing } from './grpc-h2load.js';
import { grpcLoad } from './grpc-load.js';
import { repositoryBench } from './repository-load.js';
import { scrape, type MetricsSample } from './server-metrics.js';
import { startServerProcess } from './server-process.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: SHIPPED_MODEL },
    duration: { type: 'string', default: '5' },
    'batch-delay-ms': { type: 'string', default: '2' },
    threads: { type: 'string', default: '0' },
    'max-inflight': { type: 'string', default: '1' },
    'max-batch': { type: 'string', default: '64' },
    connections: { type: 'string', default: '1,8,64' },
    repeat: { type: 'string', default: '1' },
    modes: { type: 'string', default: 'batching' },
    'grpc-client': { type: 'string', default: 'h2load' },
    protocols: { type: 'string', default: 'json,binary,grpc' },
    'model-repository': { type: 'string' },
    models: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  process.stdout.write(
    'Usage: pnpm bench:serve [--model FILE] [--duration SECONDS per case] [--batch-delay-ms MS] [--threads N (ORT intra-op, both sides)]\n' +
      '                        [--max-inflight N] [--max-batch N] [--connections 1,8,64] [--modes batching[,no-batching]]\n' +
      '                        [--protocols json,binary,grpc] [--grpc-client h2load|grpc-js (gRPC load generator)]\n' +
      '                        [--repeat N (runs per case; the table shows the run with the median p99, and the p99 range)]\n' +
      '       pnpm bench:serve --model-repository DIR [--models A,B] [--connections 64] [--duration S] [server options above]\n' +
      '                        (two models of DIR loaded at once: each alone, then both at half the connections; RSS per model)\n',
  );
  process.exit(0);
}
if (values['model-repository'] !== undefined) {
  const cli = fileURLToPath(new URL('../dist/cli/serve.js', import.meta.url));
  const ok = await repositoryBench({
    cli,
    root: values['model-repository'],
    models: values.models?.split(','),
    duration: Number(values.duration),
    connections: Number(values.connections!.split(',').at(-1)),
    serverArgs: [
      '--batch-delay-ms',
      values['batch-delay-ms']!,
      '--threads',
      values.threads!,
      '--max-inflight',
      values['max-inflight']!,
      '--max-batch',
      values['max-batch']!,
    ],
  });
  process.exit(ok ? 0 : 1);
}
const MODEL = values.model!;
const DURATION = Number(values.duration);
const DELAY_MS = Number(values['batch-delay-ms']);
const THREADS = Number(values.threads);
const MAX_INFLIGHT = Number(values['max-inflight']);
const MAX_BATCH = Number(values['max-batch']);
const CONNECTIONS = values.connections!.split(',').map(Number);
const REPEAT = Number(values.repeat);
if (!Number.isInteger(REPEAT) || REPEAT < 1) {
  process.stderr.write(`bench: --repeat: expected an integer >= 1, received ${JSON.stringify(values.repeat)}\n`);
  process.exit(1);
}
const MODES = values.modes!.split(',').map((m) => m === 'batching');
type Protocol = 'json' | 'binary' | 'grpc';
const PROTOCOLS = values.protocols!.split(',') as Protocol[];
for (const p of PROTOCOLS) {
  if (!['json', 'binary', 'grpc'].includes(p)) {
    process.stderr.write(`bench: --protocols: expected json, binary or grpc, received ${JSON.stringify(p)}\n`);
    process.exit(1);
  }
}
if (!['h2load', 'grpc-js'].includes(values['grpc-client']!)) {
  process.stderr.write(
    `bench: --grpc-client: expected h2load or grpc-js, received ${JSON.stringify(values['grpc-client'])}\n`,
  );
  process.exit(1);
}
const h2loadAbsent = PROTOCOLS.includes('grpc') && values['grpc-client'] === 'h2load' ? h2loadMissing() : undefined;
if (h2loadAbsent) process.stdout.write(`bench: gRPC load from the grpc-js generator instead: ${h2loadAbsent}\n`);
const GRPC_CLIENT = h2loadAbsent ? 'grpc-js' : values['grpc-client'];
const CEILING_BATCH = 64;
const DISTINCT = 16;
const CLI = fileURLToPath(new URL('../dist/cli/serve.js', import.meta.url));

if (!existsSync(MODEL)) {
  process.stderr.write(`bench: ${MODEL} not found; export a model (pnpm export) or pass --model FILE\n`);
  process.exit(1);
}
if (!existsSync(CLI)) {
  process.stderr.write(`bench: ${CLI} not built; run through \`pnpm bench:serve\`, which builds it\n`);
  process.exit(1);
}

const bytes = readFileSync(MODEL);
const metadata = readModelMetadata(bytes, MODEL);
const name = MODEL.replace(/^.*\//, '').replace(/\.onnx$/i, '');
const { channels, height, width } = metadata.input;
const size = channels * height * width;
const classes = metadata.labels.length;

// Seeded inputs roughly like normalised images, so every run sends the same requests.
let seed = 12345;
const rand = (): number => {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return seed / 2 ** 32;
};
const inputs = Array.from({ length: DISTINCT }, () => Float32Array.from({ length: size }, () => (rand() - 0.5) * 4));
// The i-th request's id and its one input, with what each protocol adds to the input (its data, or its size).
const requestOf = (i: number, input: Record<string, unknown> = {}) => ({
  id: `bench-${i}`,
  inputs: [{ name: metadata.input.name, shape: [1, channels, height, width], datatype: 'FP32', ...input }],
});
const bodies = inputs.map((data, i) =>
  JSON.stringify(requestOf(i, { data: Array.from(data, (v) => Number(v.toPrecision(9))) })),
);
const fp32Le = (data: Float32Array): Buffer =>
  Buffer.from(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
// Binary tensor data: the JSON header, then the row's 4 * C * H * W bytes.
const binaryBodies = inputs.map((data, i) => {
  const header = Buffer.from(JSON.stringify(requestOf(i, { parameters: { binary_data_size: data.length * 4 } })));
  return { body: Buffer.concat([header, fp32Le(data)]), headerLength: header.length };
});
const grpcRequests = inputs.map((data, i) => ({ model_name: '', ...requestOf(i), raw_input_contents: [fp32Le(data)] }));
// h2load sends one body on every stream: the first request, whose answers the server's failure count then vouches for.
const grpcFrame = grpcFrameOf({ ...grpcRequests[0], model_name: name });

const sessionOptions: InferenceSession.SessionOptions = {
  graphOptimizationLevel: 'all',
  ...(THREADS > 0 ? { intraOpNumThreads: THREADS } : {}),
};
const session = await InferenceSession.create(bytes, sessionOptions);
const runBatch = async (data: Float32Array, rows: number): Promise<Float32Array> => {
  const out = await session.run({
    [metadata.input.name]: new Tensor('float32', data, [rows, channels, height, width]),
  });
  return out[metadata.output.name]!.data as Float32Array;
};

// What each request's answer must be: its row run alone.
const expected = await Promise.all(inputs.map((data) => runBatch(data, 1)));

/** Images per second, mean and 99th-percentile ms per call of `rows`-row calls for `seconds`. */
async function inProcess(
  rows: number,
  seconds: number,
): Promise<{ imagesPerSecond: number; msPerCall: number; p99MsPerCall: number }> {
  const batch = new Float32Array(rows * size);
  for (let r = 0; r < rows; r++) batch.set(inputs[r % DISTINCT]!, r * size);
  for (let i = 0; i < 3; i++) await runBatch(batch, rows);
  const callMs: number[] = [];
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    const start = performance.now();
    await runBatch(batch, rows);
    callMs.push(performance.now() - start);
  }
  const ms = performance.now() - t0;
  callMs.sort((a, b) => a - b);
  return {
    imagesPerSecond: (callMs.length * rows * 1000) / ms,
    msPerCall: ms / callMs.length,
    p99MsPerCall: quantile(callMs, 0.99),
  };
}

interface ServerCase {
  protocol: Protocol;
  batching: boolean;
  connections: number;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  failures: number;
  checked: number;
  wrong: number;
  stats: string;
  /** CPU this process (the load generator) used during the measured window, in cores (1.0 = one core busy). */
  clientCores: number;
  /** The server's main-thread and whole-process CPU per answered request, in ms, from its /metrics. */
  serverMainMs: number;
  serverProcessMs: number;
}

async function startServer(
  batching: boolean,
): Promise<{ url: string; grpcTarget: string; stop: () => Promise<string> }> {
  const args = [
    CLI,
    '--model',
    MODEL,
    '--port',
    '0',
    '--grpc-port',
    '0',
    '--batch-delay-ms',
    String(DELAY_MS),
    '--threads',
    String(THREADS),
    '--max-inflight',
    String(MAX_INFLIGHT),
    '--max-batch',
    String(MAX_BATCH),
    ...(batching ? [] : ['--no-batching']),
  ];
  const { url, child, output, exited } = await startServerProcess(args);
  const grpcTarget = /gRPC inference\.GRPCInferenceService on (\S+)/.exec(output())?.[1] ?? '';
  return {
    url,
    grpcTarget,
    stop: async () => {
      child.kill('SIGTERM');
      const code = await exited;
      if (code !== 0) throw new Error(`server exited with ${code}:\n${output()}`);
      return /served (.*)$/m.exec(output())?.[1] ?? '';
    },
  };
}

/** One measured run: throughput, latency and failures, whatever generated the load. */
interface Measured {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  failures: number;
  duration: number;
  /** Cores a load generator in another process used (h2load); absent when it ran in this one. */
  clientCores?: number;
}

async function httpLoad(
  url: string,
  connections: number,
  seconds: number,
  binary: boolean,
  sample: (index: number, id: string, logits: number[]) => void,
): Promise<Measured> {
  const path = `/v2/models/${name}/infer`;
  const requests = inputs.map((_, index) => ({
    method: 'POST' as const,
    path,
    ...(binary
      ? {
          body: binaryBodies[index]!.body,
          headers: {
            'content-type': 'application/octet-stream',
            'inference-header-content-length': String(binaryBodies[index]!.headerLength),
          },
        }
      : { body: bodies[index]!, headers: { 'content-type': 'application/json' } }),
    onResponse: (status: number, text: string) => {
      if (status !== 200 || Math.random() >= 0.05) return;
      const reply = JSON.parse(text) as { id: string; outputs: { data: number[] }[] };
      sample(index, reply.id, reply.outputs[0]!.data);
    },
  }));
  const result = await autocannon({ url, connections, duration: seconds, requests });
  return {
    requestsPerSecond: result['2xx'] / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failures: result.errors + result.timeouts + result.non2xx,
    duration: result.duration,
  };
}

async function loadTest(protocol: Protocol, batching: boolean, connections: number): Promise<ServerCase> {
  const server = await startServer(batching);
  let checked = 0;
  let wrong = 0;
  let counting = false;
  const argmax = (a: ArrayLike<number>): number =>
    Array.from(a).reduce((best, v, i, all) => (v > all[best]! ? i : best), 0);
  const sample = (index: number, id: string, got: number[]): void => {
    if (!counting || checked >= 256) return;
    checked++;
    const want = expected[index]!;
    const close = got.length === classes && got.every((v, i) => Math.abs(v - want[i]!) <= 1e-4);
    if (id !== `bench-${index}` || !close || argmax(got) !== argmax(want)) wrong++;
  };
  const requests = grpcRequests.map((r) => ({ ...r, model_name: name }));
  const grpcJs = (seconds: number, callers: number): Promise<Measured> =>
    grpcLoad(server.grpcTarget, callers, seconds, requests, (index, reply) => {
      const raw = reply.raw_output_contents[0]!;
      sample(
        index,
        reply.id,
        Array.from({ length: raw.length / 4 }, (_, i) => raw.readFloatLE(i * 4)),
      );
    });
  const run = async (seconds: number): Promise<Measured> => {
    if (protocol !== 'grpc') return httpLoad(server.url, connections, seconds, protocol === 'binary', sample);
    if (GRPC_CLIENT === 'grpc-js') return grpcJs(seconds, connections);
    const h = await h2loadGrpc(server.grpcTarget, connections, seconds, grpcFrame);
    const { responses: requestsPerSecond, httpFailures: failures, ...rest } = h;
    return { ...rest, requestsPerSecond: requestsPerSecond / h.duration, failures };
  };
  await run(1); // warm-up, not measured
  counting = true;
  const before: MetricsSample = await scrape(server.url);
  const cpu = process.cpuUsage();
  const result = await run(DURATION);
  const used = process.cpuUsage(cpu);
  const after: MetricsSample = await scrape(server.url);
  // h2load checks no answer and sees gRPC failures as HTTP 200s: the server's count says how many failed, and the
  // grpc-js client checks answers to all the distinct requests after the measured run.
  if (protocol === 'grpc' && GRPC_CLIENT === 'h2load') await grpcJs(1, 8);
  const stats = await server.stop();
  const answered = Math.max(1, after.successes - before.successes);
  const serverFailures = after.requests - after.successes - (before.requests - before.successes);
  return {
    protocol,
    batching,
    connections,
    requestsPerSecond: result.requestsPerSecond,
    p50: result.p50,
    p99: result.p99,
    failures: Math.max(result.failures, serverFailures),
    checked,
    wrong,
    stats,
    clientCores: result.clientCores ?? (used.user + used.system) / 1e6 / result.duration,
    serverMainMs: ((after.mainThreadCpu - before.mainThreadCpu) * 1000) / answered,
    serverProcessMs: ((after.processCpu - before.processCpu) * 1000) / answered,
  };
}

process.stdout.write(
  `bench: ${MODEL} (${metadata.architecture?.depth ?? '?'} layers, input ${channels}x${height}x${width}), ${DURATION} s per case, batch delay ${DELAY_MS} ms, ORT threads ${THREADS || 'default'}, ${MAX_INFLIGHT} ORT call(s) in flight\n`,
);
// The machine's speed drifts by 10-20% within minutes, so the ceiling is measured again before every server case
// and the median window is the reference: one unlucky window would otherwise move every ratio and the p99 bound.
const windows = [await inProcess(CEILING_BATCH, Math.min(DURATION, 5))];
const single = await inProcess(1, Math.min(DURATION, 3));
// Each case's runs; one p99 is one draw from a noisy machine, so --repeat shows how far it moves.
const runs: ServerCase[][] = [];
for (const batching of MODES) {
  for (const protocol of PROTOCOLS) {
    for (const connections of CONNECTIONS) {
      const caseRuns: ServerCase[] = [];
      for (let r = 0; r < REPEAT; r++) {
        if (runs.length > 0 || r > 0) windows.push(await inProcess(CEILING_BATCH, Math.min(DURATION, 3)));
        const c = await loadTest(protocol, batching, connections);
        caseRuns.push(c);
        process.stdout.write(
          `  ${protocol} ${batching ? 'batching' : 'no batching'} x${connections}: ${c.requestsPerSecond.toFixed(0)} req/s, p50 ${c.p50} ms, p99 ${c.p99} ms; ` +
            `server main thread ${c.serverMainMs.toFixed(3)} ms CPU/request; load generator ${c.clientCores.toFixed(2)} cores; server: ${c.stats}\n`,
        );
      }
      runs.push(caseRuns);
    }
  }
}
// The run with the median p99 stands for its case (the lower middle one for an even count).
const cases = runs.map((caseRuns) => [...caseRuns].sort((a, b) => a.p99 - b.p99)[(caseRuns.length - 1) >> 1]!);
const p99Range = (i: number): string => {
  const p99s = runs[i]!.map((c) => c.p99);
  return `${Math.min(...p99s)}-${Math.max(...p99s)} (${p99s.length})`;
};
const msPerBatch = windows.map((w) => w.msPerCall).sort((a, b) => a - b);
const medianMs = quantile(msPerBatch, 0.5);
const ceiling = {
  msPerCall: medianMs,
  imagesPerSecond: (CEILING_BATCH * 1000) / medianMs,
  p99MsPerCall: quantile(
    windows.map((w) => w.p99MsPerCall).sort((a, b) => a - b),
    0.5,
  ),
};
process.stdout.write(
  `in-process: batch ${CEILING_BATCH} ${ceiling.imagesPerSecond.toFixed(0)} images/s, median ${ceiling.msPerCall.toFixed(1)} ms per batch over ${windows.length} windows ` +
    `(${msPerBatch[0]!.toFixed(1)}-${msPerBatch.at(-1)!.toFixed(1)} ms); batch 1 ${single.imagesPerSecond.toFixed(0)} images/s (${single.msPerCall.toFixed(2)} ms)\n`,
);
const bound = 4 * DELAY_MS + ceiling.msPerCall;
await session.release();

// "5512 request(s) in 189 ORT call(s) (mean 29.2 rows, ...; per call: mean 21.0 ms, p50 20.1 ms, p99 27.5 ms, ...); ...; queued +
// computed per request: p50 24.1 ms, p99 30.2 ms, ..." -> "29.2 rows, 20.1 / 27.5" and "24.1 / 30.2".
function serverSummary(stats: string): { batch: string; latency: string } {
  const m = /\(mean ([\d.]+) rows.*per call: mean [\d.]+ ms, p50 ([\d.]+) ms, p99 ([\d.]+) ms/.exec(stats);
  const l = /per request: p50 ([\d.]+) ms, p99 ([\d.]+) ms/.exec(stats);
  return { batch: m ? `${m[1]} rows, ${m[2]} / ${m[3]}` : stats, latency: l ? `${l[1]} / ${l[2]}` : '-' };
}

const rows: string[][] = [
  [
    'case',
    'protocol',
    'conns',
    'images/s',
    'ceiling',
    'ratio',
    'p50 ms',
    'p99 ms',
    ...(REPEAT > 1 ? ['p99 over runs'] : []),
    'p99 bound',
    'p99/bound',
    'errors',
    'checked (wrong)',
    'mean batch, ORT call p50 / p99 ms',
    'in batcher p50 / p99 ms',
    'server CPU ms/req, main thread / process',
    'load generator cores',
  ],
  [
    'in-process batch 64',
    '-',
    '-',
    ceiling.imagesPerSecond.toFixed(0),
    '-',
    '1.00',
    '-',
    '-',
    ...(REPEAT > 1 ? ['-'] : []),
    '-',
    '-',
    '0',
    '-',
    `64 rows, ${ceiling.msPerCall.toFixed(1)} (mean) / ${ceiling.p99MsPerCall.toFixed(1)}`,
    '-',
    '-',
    '-',
  ],
  [
    'in-process batch 1',
    '-',
    '-',
    single.imagesPerSecond.toFixed(0),
    ceiling.imagesPerSecond.toFixed(0),
    (single.imagesPerSecond / ceiling.imagesPerSecond).toFixed(2),
    single.msPerCall.toFixed(2),
    '-',
    ...(REPEAT > 1 ? ['-'] : []),
    '-',
    '-',
    '0',
    '-',
    `1 row, ${single.msPerCall.toFixed(2)} (mean) / ${single.p99MsPerCall.toFixed(2)}`,
    '-',
    '-',
    '-',
  ],
  ...cases
    .map((c, i) => ({ c, i, server: serverSummary(c.stats) }))
    .map(({ c, i, server }) => [
      c.batching ? 'server, batching' : 'server, no batching',
      c.protocol,
      String(c.connections),
      c.requestsPerSecond.toFixed(0),
      ceiling.imagesPerSecond.toFixed(0),
      (c.requestsPerSecond / ceiling.imagesPerSecond).toFixed(2),
      String(c.p50),
      String(c.p99),
      ...(REPEAT > 1 ? [p99Range(i)] : []),
      bound.toFixed(1),
      (c.p99 / bound).toFixed(2),
      String(c.failures),
      `${c.checked} (${c.wrong})`,
      server.batch,
      server.latency,
      `${c.serverMainMs.toFixed(3)} / ${c.serverProcessMs.toFixed(3)}`,
      c.clientCores.toFixed(2),
    ]),
];
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
const line = (r: string[]): string => `| ${r.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
process.stdout.write(
  `\n${line(rows[0]!)}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|\n${rows.slice(1).map(line).join('\n')}\n`,
);

const jsonAt64 = cases.find((c) => c.batching && c.connections === 64 && c.protocol === 'json');
for (const [targetIndex, target] of cases.entries()) {
  if (!target.batching || target.connections !== 64) continue;
  const ratio = target.requestsPerSecond / ceiling.imagesPerSecond;
  const goal = target.protocol === 'json' ? 0.7 : 0.9;
  const cpu =
    jsonAt64 && target.protocol !== 'json'
      ? `; main-thread CPU per request ${(jsonAt64.serverMainMs / target.serverMainMs).toFixed(2)}x lower than JSON (>= 1.5: ${jsonAt64.serverMainMs / target.serverMainMs >= 1.5 ? 'met' : 'missed'})`
      : '';
  process.stdout.write(
    `\ntargets (${target.protocol}, batching, 64 connections): throughput ${ratio.toFixed(2)} of in-process (>= ${goal.toFixed(2)}: ${ratio >= goal ? 'met' : 'missed'})${cpu}; ` +
      `p99 ${target.p99} ms${REPEAT > 1 ? ` (median of ${REPEAT} runs, range ${p99Range(targetIndex)})` : ''} vs 4 x ${DELAY_MS} ms + ${ceiling.msPerCall.toFixed(1)} ms = ${bound.toFixed(1)} ms (${target.p99 < bound ? 'met' : 'missed'})\n` +
      // Little's law: 64 closed-loop clients at X requests/s wait 64 / X s on average, whatever the batching rule.
      `closed loop: mean latency = 64 / throughput = ${((64 * 1000) / target.requestsPerSecond).toFixed(1)} ms (at the ceiling's rate: ${((64 * 1000) / ceiling.imagesPerSecond).toFixed(1)} ms)\n`,
  );
}
const failed = runs.flat().filter((c) => c.failures > 0 || c.wrong > 0 || c.checked === 0);
if (failed.length > 0) {
  process.stdout.write(
    `bench: errors or wrong answers in ${failed.map((c) => `${c.protocol} ${c.batching ? 'batching' : 'no batching'} x${c.connections}`).join(', ')}\n`,
  );
  process.exitCode = 1;
}
