// A closed-loop gRPC load generator for bench:serve (autocannon speaks HTTP/1.1 only): `connections` callers,
// each sending its next ModelInfer as soon as the last is answered, spread over a few channels (HTTP/2
// connections), for `seconds`; latencies in an HDR histogram, as autocannon keeps them.
import {
  credentials,
  loadPackageDefinition,
  type Client,
  type GrpcObject,
  type ServiceClientConstructor,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { build as buildHistogram } from 'hdr-histogram-js';
import { PROTO_PATH } from '../src/grpc-server.js';

/** What a gRPC load run measured. */
export interface GrpcLoadResult {
  /** Calls answered OK per second. */
  requestsPerSecond: number;
  p50: number;
  p99: number;
  failures: number;
  /** Seconds measured. */
  duration: number;
}

type Reply = { id: string; raw_output_contents: Buffer[] };
type Infer = (request: unknown, callback: (error: ServiceError | null, reply: Reply) => void) => void;

/**
 * Runs the load. `request(i)` gives the i-th distinct request (cycled); `check` sees a sample of the answers.
 * @param channels - HTTP/2 connections the callers share (each its own subchannel).
 */
export async function grpcLoad(
  target: string,
  connections: number,
  seconds: number,
  requests: readonly unknown[],
  check: (index: number, reply: Reply) => void,
  channels = Math.min(connections, 8),
): Promise<GrpcLoadResult> {
  const definition = loadSync(PROTO_PATH, { keepCase: true, longs: Number, defaults: true, oneofs: true });
  const Service = (loadPackageDefinition(definition).inference as GrpcObject)
    .GRPCInferenceService as ServiceClientConstructor;
  const clients: (Client & { ModelInfer?: unknown })[] = Array.from(
    { length: channels },
    () => new Service(target, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }),
  );
  const histogram = buildHistogram({ numberOfSignificantValueDigits: 3 });
  let ok = 0;
  let failures = 0;
  const deadline = performance.now() + seconds * 1000;
  const t0 = performance.now();
  const caller = async (c: number): Promise<void> => {
    const client = clients[c % channels]!;
    for (let n = c; performance.now() < deadline; n += connections) {
      const index = n % requests.length;
      const started = performance.now();
      const outcome = await new Promise<Reply | undefined>((resolve) =>
        (client.ModelInfer as Infer).call(client, requests[index], (error, reply) =>
          resolve(error ? undefined : reply),
        ),
      );
      if (!outcome) {
        failures++;
        continue;
      }
      histogram.recordValue(Math.max(1, Math.round(performance.now() - started)));
      ok++;
      if (Math.random() < 0.05) check(index, outcome);
    }
  };
  await Promise.all(Array.from({ length: connections }, (_, c) => caller(c)));
  const duration = (performance.now() - t0) / 1000;
  for (const client of clients) client.close();
  return {
    requestsPerSecond: ok / duration,
    p50: histogram.getValueAtPercentile(50),
    p99: histogram.getValueAtPercentile(99),
    failures,
    duration,
  };
}
