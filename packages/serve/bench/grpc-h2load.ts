// gRPC load from nghttp2's h2load, a C HTTP/2 load generator: on 2 vCPUs the @grpc/grpc-js generator used half a core
// (the server's share), h2load about as little as autocannon does for HTTP. h2load knows nothing of gRPC: each stream
// is a POST of one length-prefixed ModelInferRequest, and since gRPC puts its status in trailers after an HTTP 200, the
// bench counts failures from the server's /metrics, and checks answers with the grpc-js client (grpc-load.ts).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSync } from '@grpc/proto-loader';
import { build as buildHistogram } from 'hdr-histogram-js';
import { PROTO_PATH } from '../src/grpc-server.js';

/** What an h2load run measured, as seen by the client (HTTP 200 streams), and the CPU h2load used. */
export interface H2loadResult {
  responses: number;
  p50: number;
  p99: number;
  /** Streams that did not end in HTTP 200 (gRPC failures come with 200: count those on the server). */
  httpFailures: number;
  duration: number;
  clientCores: number;
}

/** Why h2load cannot run here, or undefined when it can. */
export function h2loadMissing(): string | undefined {
  const probe = spawnSync('h2load', ['--version'], { encoding: 'utf8' });
  return probe.error ? 'h2load not found (Debian: apt-get install nghttp2-client)' : undefined;
}

/** `request` serialised as one gRPC message: a 0 (uncompressed) flag, its length (big-endian) and its protobuf bytes. */
export function grpcFrameOf(request: unknown): Buffer {
  const definition = loadSync(PROTO_PATH, { keepCase: true, longs: Number, defaults: true, oneofs: true });
  const service = definition['inference.GRPCInferenceService'] as Record<
    string,
    { requestSerialize: (r: unknown) => Buffer }
  >;
  const body = service.ModelInfer!.requestSerialize(request);
  const frame = Buffer.alloc(5 + body.length);
  frame.writeUInt32BE(body.length, 1);
  body.copy(frame, 5);
  return frame;
}

/**
 * Runs h2load: `connections` streams in flight (closed loop: each answered stream starts the next) over
 * `channels` HTTP/2 connections, for `seconds`, every stream a ModelInfer of `frame`.
 */
export async function h2loadGrpc(
  target: string,
  connections: number,
  seconds: number,
  frame: Buffer,
  channels = Math.min(connections, 8),
): Promise<H2loadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'depthfold-h2load-'));
  try {
    const data = join(dir, 'request.bin');
    const log = join(dir, 'log.tsv');
    writeFileSync(data, frame);
    const args = [
      ...['-D', String(seconds), '-c', String(channels), '-m', String(Math.ceil(connections / channels)), '-t', '1'],
      ...['-d', data, '-H', 'content-type: application/grpc', '-H', 'te: trailers', `--log-file=${log}`],
      `http://${target}/inference.GRPCInferenceService/ModelInfer`,
    ];
    // bash's `times` reports the CPU of the shell's children: h2load's own, which Node cannot read of a child.
    const child = spawn('bash', ['-c', 'h2load "$@" >/dev/null || exit $?; times', 'h2load', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    if (code !== 0) throw new Error(`h2load exited with ${code}: ${out}`);
    const histogram = buildHistogram({ numberOfSignificantValueDigits: 3 });
    let responses = 0;
    let httpFailures = 0;
    let first = Number.POSITIVE_INFINITY;
    let last = 0;
    for (const line of readFileSync(log, 'utf8').split('\n')) {
      const [start, status, micros] = line.split('\t').map(Number);
      if (start === undefined || status === undefined || micros === undefined || !Number.isFinite(micros)) continue;
      first = Math.min(first, start);
      last = Math.max(last, start + micros);
      if (status !== 200) {
        httpFailures++;
        continue;
      }
      responses++;
      histogram.recordValue(Math.max(1, Math.round(micros / 1000)));
    }
    const duration = responses > 0 ? (last - first) / 1e6 : seconds;
    return {
      responses,
      p50: histogram.getValueAtPercentile(50),
      p99: histogram.getValueAtPercentile(99),
      httpFailures,
      duration,
      clientCores: childCpuSecondsOf(out) / duration,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The children's user + system seconds from bash's `times` (its second line: `0m1.234s 0m0.056s`). */
function childCpuSecondsOf(times: string): number {
  const line = times.trim().split('\n').at(-1) ?? '';
  return [...line.matchAll(/(\d+)m([\d.]+)s/g)].reduce((s, m) => s + Number(m[1]) * 60 + Number(m[2]), 0);
}
