// What the server did, from its own records: Triton's statistics extension (`GET /v2/models/{name}/stats`,
// triton-inference-server/server docs/protocol/extension_statistics.md) and Prometheus metrics (`GET /metrics`,
// prom-client). The batcher reports each ORT call and each request's wait; the HTTP and gRPC front ends report
// each inference request's outcome.
import { readFileSync } from 'node:fs';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BatcherObserver, DynamicBatcher } from './batcher.js';
import type { ModelSpec } from './model-spec.js';

/** How an inference request ended, as the metrics count it. */
export type Outcome =
  | 'success'
  | 'invalid'
  | 'not_found'
  | 'overloaded'
  | 'unavailable'
  | 'too_large'
  | 'timeout'
  | 'error';

/** The front end a request came through. */
export type Protocol = 'http' | 'grpc';

/** Triton's `{count, ns}`: how many, and their total duration in nanoseconds. */
export interface StatDuration {
  count: number;
  ns: number;
}

/** One entry of Triton's `model_stats`. */
export interface ModelStatistics {
  name: string;
  version: string;
  /** Milliseconds since the epoch of the last inference, 0 before the first. */
  last_inference: number;
  /** Rows (images) inferred. */
  inference_count: number;
  /** ORT calls made. */
  execution_count: number;
  inference_stats: {
    success: StatDuration;
    fail: StatDuration;
    queue: StatDuration;
    compute_input: StatDuration;
    compute_infer: StatDuration;
    compute_output: StatDuration;
  };
  batch_stats: {
    batch_size: number;
    compute_input: StatDuration;
    compute_infer: StatDuration;
    compute_output: StatDuration;
  }[];
}

const ns = (ms: number): number => Math.round(ms * 1e6);
const zero = (): StatDuration => ({ count: 0, ns: 0 });

// Linux clock ticks per second for /proc's utime and stime; 100 on every common kernel configuration.
const CLOCK_TICKS = 100;

/**
 * CPU seconds the process's main thread (the event loop: HTTP, JSON, gRPC, batching) has used, read from
 * /proc/self/task/<pid>/stat; undefined where there is no /proc. Process CPU would count the ORT worker threads too.
 */
export function mainThreadCpuSeconds(): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces, so split after its closing parenthesis).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** The server's statistics and metrics for one model. */
export class ServerStatistics implements BatcherObserver {
  /** The Prometheus registry `GET /metrics` renders. */
  readonly registry = new Registry();
  readonly #spec: ModelSpec;
  readonly #success = zero();
  readonly #fail = zero();
  readonly #queue = zero();
  readonly #compute = zero();
  readonly #batches = new Map<number, StatDuration>();
  #lastInference = 0;
  #rows = 0;
  #calls = 0;
  readonly #requests: Counter<'protocol' | 'outcome'>;
  readonly #latency: Histogram<'protocol'>;
  readonly #batchSize: Histogram;
  readonly #callSeconds: Histogram;
  readonly #queueSeconds: Histogram;

  constructor(spec: ModelSpec, batcher: DynamicBatcher) {
    this.#spec = spec;
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.#requests = new Counter({
      name: 'depthfold_inference_requests_total',
      help: 'Inference requests by protocol and outcome.',
      labelNames: ['protocol', 'outcome'],
      registers,
    });
    this.#latency = new Histogram({
      name: 'depthfold_inference_request_duration_seconds',
      help: 'Time from receiving an inference request to its reply, by protocol.',
      labelNames: ['protocol'],
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
      registers,
    });
    this.#batchSize = new Histogram({
      name: 'depthfold_batch_size',
      help: 'Rows per ORT call.',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers,
    });
    this.#callSeconds = new Histogram({
      name: 'depthfold_ort_call_duration_seconds',
      help: 'Duration of one ORT call.',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5],
      registers,
    });
    this.#queueSeconds = new Histogram({
      name: 'depthfold_queue_duration_seconds',
      help: 'Time a request waited in the batcher before its ORT call.',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5],
      registers,
    });
    new Gauge({
      name: 'depthfold_queue_depth',
      help: 'Requests waiting in the batcher for an ORT call.',
      registers,
      collect() {
        this.set(batcher.queued);
      },
    });
    new Gauge({
      name: 'depthfold_main_thread_cpu_seconds_total',
      help: 'CPU seconds used by the main thread (HTTP, JSON, gRPC, batching; not the ORT threads).',
      registers,
      collect() {
        const s = mainThreadCpuSeconds();
        if (s !== undefined) this.set(s);
      },
    });
    batcher.observer = this;
  }

  /** Called by the batcher for each ORT call that returned. */
  called(rows: number, requests: number, callMs: number): void {
    this.#rows += rows;
    this.#calls++;
    this.#lastInference = Date.now();
    // Triton counts compute per request: each request of the call spent the call's time computing.
    this.#compute.count += requests;
    this.#compute.ns += ns(callMs) * requests;
    const entry = this.#batches.get(rows) ?? zero();
    entry.count++;
    entry.ns += ns(callMs);
    this.#batches.set(rows, entry);
    this.#batchSize.observe(rows);
    this.#callSeconds.observe(callMs / 1000);
  }

  /** Called by the batcher when a request leaves the queue for its call. */
  dequeued(waitedMs: number): void {
    this.#queue.count++;
    this.#queue.ns += ns(waitedMs);
    this.#queueSeconds.observe(waitedMs / 1000);
  }

  /** Records one inference request's outcome and its time from arrival to reply. */
  outcome(protocol: Protocol, outcome: Outcome, ms: number): void {
    const d = outcome === 'success' ? this.#success : this.#fail;
    d.count++;
    d.ns += ns(ms);
    this.#requests.inc({ protocol, outcome });
    this.#latency.observe({ protocol }, ms / 1000);
  }

  /** The reply to `GET /v2/models/{name}/stats`. */
  modelStats(): { model_stats: ModelStatistics[] } {
    const copy = (d: StatDuration): StatDuration => ({ ...d });
    // The ORT call is not split into input, inference and output: all of it is compute_infer.
    const none = (count: number): StatDuration => ({ count, ns: 0 });
    return {
      model_stats: [
        {
          name: this.#spec.name,
          version: this.#spec.version,
          last_inference: this.#lastInference,
          inference_count: this.#rows,
          execution_count: this.#calls,
          inference_stats: {
            success: copy(this.#success),
            fail: copy(this.#fail),
            queue: copy(this.#queue),
            compute_input: none(this.#compute.count),
            compute_infer: copy(this.#compute),
            compute_output: none(this.#compute.count),
          },
          batch_stats: [...this.#batches.entries()]
            .sort(([a], [b]) => a - b)
            .map(([batch_size, d]) => ({
              batch_size,
              compute_input: none(d.count),
              compute_infer: copy(d),
              compute_output: none(d.count),
            })),
        },
      ],
    };
  }
}
