// The engine that splits each mini-batch over worker threads, one replica per thread. The wasm backend runs one
// thread per process in Node; replicas are how training uses the other cores. Batch-norm statistics and
// gradients are reduced over shared memory (see collective.ts), so results match the local engine up to float
// rounding, whatever the number of workers.
import { Worker } from 'node:worker_threads';
import type { TrainBackend, TrainPrecision } from '@depthfold/core';
import type { BackendChoice } from '../backend.js';
import { allocateCollective } from './collective.js';
import {
  shards,
  type Batch,
  type EngineInit,
  type StepOutcome,
  type StepSettings,
  type TrainEngine,
} from './engine.js';
import type { WorkerReply, WorkerRequest, WorkerSetup } from './messages.js';

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };
type Unsent<T> = T extends unknown ? Omit<T, 'id'> : never;

/**
 * Where the worker's code is and how to start it: the built .js beside this module, or, when this module runs
 * from source under tsx (tests, benchmarks), the .ts with tsx loaded in the worker too.
 */
function workerEntry(): URL {
  if (!import.meta.url.endsWith('.ts')) return new URL('./worker.js', import.meta.url);
  // Loader hooks do not reach worker threads in Node 20: the worker registers tsx itself, then loads the source.
  const tsx = import.meta.resolve('tsx/esm/api');
  const source = new URL('./worker.ts', import.meta.url).href;
  const code = `const { register } = await import(${JSON.stringify(tsx)}); register(); await import(${JSON.stringify(source)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
}

function slice(batch: Batch, [start, end]: [number, number], imageSize: number): Batch {
  return {
    pixels: batch.pixels.slice(start * imageSize, end * imageSize),
    labels: batch.labels.slice(start, end),
    count: end - start,
  };
}

/** Data-parallel training over `workers` threads. Create with {@link WorkerEngine.start}. */
export class WorkerEngine implements TrainEngine {
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();
  private failure: Error | undefined;

  private constructor(
    private readonly threads: Worker[],
    private readonly imageSize: number,
    /** The backend each worker runs. */
    readonly backend: BackendChoice,
  ) {
    for (const worker of threads) {
      worker.on('message', (reply: WorkerReply) => this.settle(reply));
      worker.on('error', (error) => this.fail(error));
      worker.on('exit', (code) => code !== 0 && this.fail(new Error(`a training worker exited with code ${code}`)));
    }
  }

  get workers(): number {
    return this.threads.length;
  }

  /**
   * Starts `workers` threads with replicas of `init` on `backend` (onednn with `onednnThreads` each) in `precision`,
   * and waits until each is ready.
   */
  static async start(
    init: EngineInit,
    workers: number,
    backend: Exclude<TrainBackend, 'auto'>,
    onednnThreads: number,
    precision: Exclude<TrainPrecision, 'auto'> = 'fp32',
  ): Promise<WorkerEngine> {
    const slotLength = [...init.params.values()].reduce((n, t) => n + t.data.length, 0);
    const memory = allocateCollective(workers, slotLength);
    const threads: Worker[] = [];
    const ready: Promise<BackendChoice>[] = [];
    for (let rank = 0; rank < workers; rank++) {
      const setup: WorkerSetup = { rank, backend, threads: onednnThreads, precision, memory, init };
      const worker = new Worker(workerEntry(), { workerData: setup });
      threads.push(worker);
      ready.push(
        new Promise((resolve, reject) => {
          worker.once('message', (reply: WorkerReply) =>
            reply.kind === 'ready' ? resolve(reply.backend) : reject(new Error('worker: unexpected first message')),
          );
          worker.once('error', reject);
        }),
      );
    }
    try {
      const backends = await Promise.all(ready);
      const { height, width, channels } = init.topology.input;
      return new WorkerEngine(threads, height * width * channels, backends[0]!);
    } catch (error) {
      await Promise.all(threads.map((t) => t.terminate()));
      throw error;
    }
  }

  private settle(reply: WorkerReply): void {
    if (reply.kind === 'ready') return;
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    this.pending.delete(reply.id);
    if (reply.kind === 'error') pending.reject(new Error(`training worker: ${reply.message}`));
    else pending.resolve(reply.value);
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }

  private request<T>(worker: Worker, message: Unsent<WorkerRequest>): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.postMessage({ ...message, id });
    });
  }

  async step(batch: Batch, settings: StepSettings): Promise<StepOutcome> {
    const parts = shards(batch.count, this.threads.length);
    const results = await Promise.all(
      this.threads.map((w, r) =>
        this.request<StepOutcome>(w, {
          kind: 'step',
          shard: slice(batch, parts[r]!, this.imageSize),
          settings,
          globalBatch: batch.count,
        }),
      ),
    );
    return {
      loss: results.reduce((s, x) => s + x.loss, 0),
      correct: results.reduce((s, x) => s + x.correct, 0),
      gradMagnitudes: results[0]!.gradMagnitudes,
    };
  }

  async evaluate(batch: Batch, survivalProbs: readonly number[]): Promise<{ lossSum: number; correct: number }> {
    const parts = shards(batch.count, this.threads.length);
    // A batch smaller than the pool (an evaluation's last) leaves some workers without an image: they are not asked.
    const results = await Promise.all(
      this.threads.flatMap((w, r) =>
        parts[r]![1] > parts[r]![0]
          ? [
              this.request<{ lossSum: number; correct: number }>(w, {
                kind: 'evaluate',
                shard: slice(batch, parts[r]!, this.imageSize),
                survivalProbs,
              }),
            ]
          : [],
      ),
    );
    return { lossSum: results.reduce((s, x) => s + x.lossSum, 0), correct: results.reduce((s, x) => s + x.correct, 0) };
  }

  state() {
    // Every replica holds the same weights; the first one answers.
    return this.request<Awaited<ReturnType<TrainEngine['state']>>>(this.threads[0]!, { kind: 'state' });
  }

  async dispose(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.terminate()));
  }
}
