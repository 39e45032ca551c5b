// What the server did, from its own records: Triton's statistics extension (`GET /v2/models[/{name}[/versions/{v}]]/stats`,
// triton-inference-server/server docs/protocol/extension_statistics.md) and Prometheus metrics (`GET /metrics`,
// prom-client), for every model version served. Each version's batcher reports its ORT calls and its requests'
// waits; the HTTP and gRPC front ends report each inference request's outcome. Every depthfold series carries the
// `model` and `version` labels (empty for a request naming no served model: label values never come from
// unchecked request text, so the series stay bounded).
import { readFileSync } from 'node:fs';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BatcherObserver, DynamicBatcher } from './batcher.js';
import { HttpError } from './errors.js';
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

/** The model version an inference request was for; absent when it named none that is served. */
export interface StatTarget {
  readonly name: string;
  readonly version: string;
}

// One version's Triton counters and the batcher they come from.
class VersionRecord implements BatcherObserver {
  readonly success = zero();
  readonly fail = zero();
  readonly queue = zero();
  readonly compute = zero();
  readonly batches = new Map<number, StatDuration>();
  lastInference = 0;
  rows = 0;
  calls = 0;
  batcher: DynamicBatcher;
  readonly #metrics: ServerStatistics;
  readonly #labels: { model: string; version: string };

  constructor(metrics: ServerStatistics, labels: { model: string; version: string }, batcher: DynamicBatcher) {
    this.#metrics = metrics;
    this.#labels = labels;
    this.batcher = batcher;
  }

  called(rows: number, requests: number, callMs: number): void {
    this.rows += rows;
    this.calls++;
    this.lastInference = Date.now();
    // Triton counts compute per request: each request of the call spent the call's time computing.
    this.compute.count += requests;
    this.compute.ns += ns(callMs) * requests;
    const entry = this.batches.get(rows) ?? zero();
    entry.count++;
    entry.ns += ns(callMs);
    this.batches.set(rows, entry);
    this.#metrics.observeCall(this.#labels, rows, callMs);
  }

  dequeued(waitedMs: number): void {
    this.queue.count++;
    this.queue.ns += ns(waitedMs);
    this.#metrics.observeQueue(this.#labels, waitedMs);
  }

  stats(name: string, version: string): ModelStatistics {
    const copy = (d: StatDuration): StatDuration => ({ ...d });
    // The ORT call is not split into input, inference and output: all of it is compute_infer.
    const none = (count: number): StatDuration => ({ count, ns: 0 });
    return {
      name,
      version,
      last_inference: this.lastInference,
      inference_count: this.rows,
      execution_count: this.calls,
      inference_stats: {
        success: copy(this.success),
        fail: copy(this.fail),
        queue: copy(this.queue),
        compute_input: none(this.compute.count),
        compute_infer: copy(this.compute),
        compute_output: none(this.compute.count),
      },
      batch_stats: [...this.batches.entries()]
        .sort(([a], [b]) => a - b)
        .map(([batch_size, d]) => ({
          batch_size,
          compute_input: none(d.count),
          compute_infer: copy(d),
          compute_output: none(d.count),
        })),
    };
  }
}

const key = (name: string, version: string): string => `${name}\u0000${version}`;

/** The server's statistics and metrics, for every model version it serves. */
export class ServerStatistics {
  /** The Prometheus registry `GET /metrics` renders. */
  readonly registry = new Registry();
  readonly #records = new Map<string, VersionRecord>();
  readonly #requests: Counter<'model' | 'version' | 'protocol' | 'outcome'>;
  readonly #latency: Histogram<'model' | 'version' | 'protocol'>;
  readonly #batchSize: Histogram<'model' | 'version'>;
  readonly #callSeconds: Histogram<'model' | 'version'>;
  readonly #queueSeconds: Histogram<'model' | 'version'>;
  readonly #modelBytes: Gauge<'model' | 'version'>;

  constructor() {
    const registers = [this.registry];
    const records = this.#records;
    collectDefaultMetrics({ register: this.registry });
    this.#requests = new Counter({
      name: 'depthfold_inference_requests_total',
      help: 'Inference requests by model, version, protocol and outcome (model "" for a model not served).',
      labelNames: ['model', 'version', 'protocol', 'outcome'],
      registers,
    });
    this.#latency = new Histogram({
      name: 'depthfold_inference_request_duration_seconds',
      help: 'Time from receiving an inference request to its reply, by model, version and protocol.',
      labelNames: ['model', 'version', 'protocol'],
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
      registers,
    });
    this.#batchSize = new Histogram({
      name: 'depthfold_batch_size',
      help: 'Rows per ORT call.',
      labelNames: ['model', 'version'],
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers,
    });
    this.#callSeconds = new Histogram({
      name: 'depthfold_ort_call_duration_seconds',
      help: 'Duration of one ORT call.',
      labelNames: ['model', 'version'],
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5],
      registers,
    });
    this.#queueSeconds = new Histogram({
      name: 'depthfold_queue_duration_seconds',
      help: 'Time a request waited in the batcher before its ORT call.',
      labelNames: ['model', 'version'],
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5],
      registers,
    });
    new Gauge({
      name: 'depthfold_queue_depth',
      help: 'Requests waiting in the batcher for an ORT call.',
      labelNames: ['model', 'version'],
      registers,
      collect() {
        this.reset();
        for (const [k, record] of records) {
          const [model = '', version = ''] = k.split('\u0000');
          this.set({ model, version }, record.batcher.queued);
        }
      },
    });
    this.#modelBytes = new Gauge({
      name: 'depthfold_model_bytes',
      help: 'Bytes a loaded model version counts against --max-model-bytes: its file size times its sessions.',
      labelNames: ['model', 'version'],
      registers,
    });
    new Gauge({
      name: 'depthfold_main_thread_cpu_seconds_total',
      help: 'CPU seconds used by the main thread (HTTP, JSON, gRPC, batching; not the ORT threads), all models.',
      registers,
      collect() {
        const s = mainThreadCpuSeconds();
        if (s !== undefined) this.set(s);
      },
    });
  }

  /**
   * Starts counting a loaded version's batcher (again, after a reload of the same version: its counts go on).
   * @param bytes - What the version counts against the byte budget.
   */
  track(spec: ModelSpec, batcher: DynamicBatcher, bytes: number): void {
    const labels = { model: spec.name, version: spec.version };
    let record = this.#records.get(key(spec.name, spec.version));
    if (record) record.batcher = batcher;
    else {
      record = new VersionRecord(this, labels, batcher);
      this.#records.set(key(spec.name, spec.version), record);
    }
    batcher.observer = record;
    this.#modelBytes.set(labels, bytes);
  }

  /** Stops counting an unloaded version: its statistics and its series go, as Triton's do. */
  forget(name: string, version: string): void {
    if (!this.#records.delete(key(name, version))) return;
    const labels = { model: name, version };
    for (const metric of [this.#batchSize, this.#callSeconds, this.#queueSeconds, this.#modelBytes])
      metric.remove(labels);
    for (const protocol of ['http', 'grpc'] as const) {
      this.#latency.remove({ ...labels, protocol });
      for (const outcome of OUTCOMES) this.#requests.remove({ ...labels, protocol, outcome });
    }
  }

  /** @internal A version's ORT call, for the metrics. */
  observeCall(labels: { model: string; version: string }, rows: number, callMs: number): void {
    this.#batchSize.observe(labels, rows);
    this.#callSeconds.observe(labels, callMs / 1000);
  }

  /** @internal A version's request leaving the queue, for the metrics. */
  observeQueue(labels: { model: string; version: string }, waitedMs: number): void {
    this.#queueSeconds.observe(labels, waitedMs / 1000);
  }

  /** Records one inference request's outcome and its time from arrival to reply, for the version it reached. */
  outcome(protocol: Protocol, outcome: Outcome, ms: number, target?: StatTarget): void {
    const record = target ? this.#records.get(key(target.name, target.version)) : undefined;
    if (record) {
      const d = outcome === 'success' ? record.success : record.fail;
      d.count++;
      d.ns += ns(ms);
    }
    const labels = record && target ? { model: target.name, version: target.version } : { model: '', version: '' };
    this.#requests.inc({ ...labels, protocol, outcome });
    this.#latency.observe({ ...labels, protocol }, ms / 1000);
  }

  /**
   * The reply to `GET /v2/models/stats` (no name), `/v2/models/{name}/stats` (every version of it) or
   * `/v2/models/{name}/versions/{v}/stats`, sorted by name and version.
   * @throws HttpError 404 for a model or version with no statistics (not loaded).
   */
  modelStats(name?: string, version?: string): { model_stats: ModelStatistics[] } {
    const entries = [...this.#records.entries()]
      .map(([k, record]) => {
        const [n = '', v = ''] = k.split('\u0000');
        return { n, v, record };
      })
      .filter(({ n, v }) => (name === undefined || n === name) && (version === undefined || v === version))
      .sort((a, b) => (a.n === b.n ? Number(a.v) - Number(b.v) : a.n < b.n ? -1 : 1));
    if (name !== undefined && entries.length === 0) {
      throw new HttpError(
        404,
        version === undefined
          ? `model ${JSON.stringify(name)} not found (no loaded model of that name has statistics)`
          : `model ${JSON.stringify(name)} has no version ${JSON.stringify(version)} with statistics (not loaded)`,
      );
    }
    return { model_stats: entries.map(({ n, v, record }) => record.stats(n, v)) };
  }
}

const OUTCOMES: readonly Outcome[] = [
  'success',
  'invalid',
  'not_found',
  'overloaded',
  'unavailable',
  'too_large',
  'timeout',
  'error',
];
