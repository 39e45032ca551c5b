// Dynamic batching: requests that arrive close together run as one ORT call, and each gets its own rows back.
// A batch leaves when it reaches `maxBatch` rows, when its oldest request has waited `delayMs`, or at once when
// batching is off; at most `maxInflight` calls run at a time, and at most `maxQueue` requests wait for one.
import { build as buildHistogram, type Histogram } from 'hdr-histogram-js';
import { OverloadedError } from './errors.js';

/** Runs one batch: `rows` input rows in, `rows` output rows out, in order. */
export type RunBatch = (input: Float32Array, rows: number) => Promise<Float32Array>;

/** How requests are gathered into calls. */
export interface BatcherOptions {
  /** Gather concurrent requests into one call; off runs each request as its own call. */
  readonly batching: boolean;
  /** Rows in one call, at most; a single request may not exceed it. */
  readonly maxBatch: number;
  /** How long the oldest waiting request may wait for others before its batch leaves anyway. */
  readonly delayMs: number;
  /** Requests waiting for a call, at most; beyond it a request is refused with 503. */
  readonly maxQueue: number;
  /** Calls running at once. */
  readonly maxInflight: number;
  /** Float values per input row (C * H * W). */
  readonly inputSize: number;
  /** Float values per output row (the number of classes). */
  readonly outputSize: number;
}

/** Counters since start, to see what batching did. */
export interface BatcherStats {
  /** Requests that got rows back. */
  requests: number;
  /** ORT calls made. */
  batches: number;
  /** Rows run. */
  rows: number;
  /** The most rows one call ran. */
  largestBatch: number;
  /** Requests refused because the queue was full. */
  refused: number;
  /**
   * Milliseconds of one call: mean, median, 99th percentile and slowest. Beside the same calls run alone, the spread is
   * what sharing the cores with the HTTP side (and anything else on the machine) costs each call.
   */
  callMs: Percentiles;
  /**
   * Milliseconds each answered request spent in the batcher (queued, then computed): mean, median, 99th percentile
   * and slowest. Set beside a client's latency, the difference is what HTTP, JSON and the client itself added.
   */
  latencyMs: Percentiles;
}

/** Milliseconds at the mean, the median, the 99th percentile and the maximum of a distribution (0s when empty). */
export interface Percentiles {
  /** Values recorded: a reader can tell "one call of 25 ms" from "two calls averaging 25 ms". */
  count: number;
  mean: number;
  p50: number;
  p99: number;
  max: number;
}

// Microseconds, 3 significant digits: a fixed few kilobytes however long the server runs.
const newHistogram = (): Histogram => buildHistogram({ numberOfSignificantValueDigits: 3 });

function percentilesOf(h: Histogram): Percentiles {
  // A percentile is its bucket's upper edge, which may pass the exact maximum by the histogram's 0.1% resolution.
  const at = (percentile: number): number => Math.min(h.getValueAtPercentile(percentile), h.maxValue) / 1000;
  return { count: h.totalCount, mean: h.mean / 1000, p50: at(50), p99: at(99), max: h.maxValue / 1000 };
}

/** Told of each call and each request's wait, as they happen (the server's statistics and metrics). */
export interface BatcherObserver {
  /** A call of `rows` rows for `requests` requests returned after `callMs`. */
  called(rows: number, requests: number, callMs: number): void;
  /** A request waited `waitedMs` in the queue before its call started. */
  dequeued(waitedMs: number): void;
}

interface Job {
  readonly input: Float32Array;
  readonly rows: number;
  readonly since: number;
  readonly resolve: (output: Float32Array) => void;
  readonly reject: (error: unknown) => void;
}

/** Gathers requests into batches and hands each request its rows of the result. */
export class DynamicBatcher {
  readonly options: BatcherOptions;
  readonly #run: RunBatch;
  readonly #queue: Job[] = [];
  #queuedRows = 0;
  #inflight = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #idle: (() => void)[] = [];
  readonly #stats: Omit<BatcherStats, 'latencyMs' | 'callMs'> = {
    requests: 0,
    batches: 0,
    rows: 0,
    largestBatch: 0,
    refused: 0,
  };
  readonly #latency = newHistogram();
  readonly #callTime = newHistogram();
  /** Told of every call and wait, when set. */
  observer: BatcherObserver | undefined;

  constructor(run: RunBatch, options: BatcherOptions) {
    this.#run = run;
    this.options = Object.freeze({ ...options });
  }

  /** A copy of the counters. */
  get stats(): BatcherStats {
    return { ...this.#stats, callMs: percentilesOf(this.#callTime), latencyMs: percentilesOf(this.#latency) };
  }

  /** Requests waiting for a call. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Calls running now. */
  get inflight(): number {
    return this.#inflight;
  }

  /**
   * Queues `rows` input rows and resolves with exactly their output rows.
   * @throws OverloadedError, an HttpError 503 (as a rejection), when `maxQueue` requests are already waiting.
   */
  submit(input: Float32Array, rows: number): Promise<Float32Array> {
    const { maxQueue, maxBatch, inputSize } = this.options;
    if (rows < 1 || rows > maxBatch || input.length !== rows * inputSize) {
      return Promise.reject(
        new Error(
          `batcher: ${rows} rows of ${input.length / rows} values; expected 1 to ${maxBatch} rows of ${inputSize}`,
        ),
      );
    }
    if (this.#queue.length >= maxQueue) {
      this.#stats.refused++;
      return Promise.reject(
        new OverloadedError(`server overloaded: ${maxQueue} requests are already waiting (--max-queue); retry later`),
      );
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ input, rows, since: performance.now(), resolve, reject });
      this.#queuedRows += rows;
      this.#pump();
    });
  }

  /** Resolves once nothing waits and nothing runs. */
  idle(): Promise<void> {
    if (this.#queue.length === 0 && this.#inflight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #pump(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const { batching, maxBatch, delayMs, maxInflight } = this.options;
    while (this.#inflight < maxInflight && this.#queue.length > 0) {
      if (batching && this.#queuedRows < maxBatch) {
        const waited = performance.now() - this.#queue[0]!.since;
        if (waited < delayMs) {
          this.#timer = setTimeout(() => this.#pump(), delayMs - waited);
          return;
        }
      }
      this.#launch(this.#take(batching ? maxBatch : 1));
    }
  }

  // Oldest first, stopping before the request that would overflow the batch (requests are never split).
  #take(limit: number): Job[] {
    const jobs: Job[] = [this.#queue.shift()!];
    let rows = jobs[0]!.rows;
    while (this.#queue.length > 0 && rows + this.#queue[0]!.rows <= limit) {
      const job = this.#queue.shift()!;
      jobs.push(job);
      rows += job.rows;
    }
    this.#queuedRows -= rows;
    return jobs;
  }

  #launch(jobs: Job[]): void {
    const { inputSize, outputSize } = this.options;
    const rows = jobs.reduce((n, j) => n + j.rows, 0);
    let input = jobs[0]!.input;
    if (jobs.length > 1) {
      input = new Float32Array(rows * inputSize);
      let offset = 0;
      for (const job of jobs) {
        input.set(job.input, offset);
        offset += job.input.length;
      }
    }
    this.#inflight++;
    this.#stats.batches++;
    this.#stats.rows += rows;
    this.#stats.largestBatch = Math.max(this.#stats.largestBatch, rows);
    const started = performance.now();
    if (this.observer) for (const job of jobs) this.observer.dequeued(started - job.since);
    // The next batch starts before this one is answered: ORT computes while the event loop writes the replies.
    const done = (): void => {
      const callMs = performance.now() - started;
      this.#callTime.recordValue(Math.round(callMs * 1000));
      this.observer?.called(rows, jobs.length, callMs);
      this.#inflight--;
      this.#pump();
    };
    this.#run(input, rows)
      .then(
        (output) => {
          done();
          if (output.length !== rows * outputSize) {
            const error = new Error(`the model returned ${output.length} values for ${rows} rows of ${outputSize}`);
            for (const job of jobs) job.reject(error);
            return;
          }
          // Counted before anyone is answered, so that the counters are current when a reply goes out.
          this.#stats.requests += jobs.length;
          let row = 0;
          const now = performance.now();
          for (const job of jobs) {
            this.#latency.recordValue(Math.round((now - job.since) * 1000));
            job.resolve(output.subarray(row * outputSize, (row + job.rows) * outputSize));
            row += job.rows;
          }
        },
        (error: unknown) => {
          done();
          for (const job of jobs) job.reject(error);
        },
      )
      .finally(() => {
        if (this.#queue.length === 0 && this.#inflight === 0) for (const wake of this.#idle.splice(0)) wake();
      });
  }
}
