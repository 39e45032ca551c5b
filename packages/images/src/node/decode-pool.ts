// The cache's first pass on every core: one worker thread per core (os.availableParallelism()), each with up to two
// jobs in flight so that one file is read or written while another is decoded. Few misses run on this thread.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { type DecodeJob, type DecodeOutcome, type DecodeSettings, runDecodeJob } from './decode-job.js';

/** A job sent to a worker. */
export interface WorkerRequest {
  readonly id: number;
  readonly job: DecodeJob;
}

/** A worker's answer: to job `id`, or (id -1) whether it started. */
export type WorkerReply =
  | { readonly id: number; readonly outcome: DecodeOutcome }
  | { readonly id: number; readonly error: string }
  | { readonly id: -1; readonly ready: true };

/** Jobs in flight per worker. */
const IN_FLIGHT = 2;

/** Jobs in flight on the calling thread: sharp decodes on libuv's threads while this one preprocesses. */
const HERE_IN_FLIGHT = 4;

/** Runs the jobs on this thread, a few at once; stops starting new ones once `onOutcome` returns false. */
async function runHere(
  jobs: readonly DecodeJob[],
  settings: DecodeSettings,
  onOutcome: (index: number, outcome: DecodeOutcome) => boolean,
): Promise<void> {
  let next = 0;
  let stopped = false;
  const lane = async () => {
    while (!stopped && next < jobs.length) {
      const i = next++;
      const outcome = await runDecodeJob(jobs[i]!, settings);
      if (!stopped && !onOutcome(i, outcome)) stopped = true;
    }
  };
  await Promise.all(Array.from({ length: Math.min(HERE_IN_FLIGHT, jobs.length) }, lane));
}

/**
 * Where the worker's code is: the built .js beside this module, or, when this module runs from source under tsx
 * (tests), the .ts with tsx registered in the worker first (loader hooks do not reach worker threads in Node 20).
 */
function workerEntry(): URL {
  if (!import.meta.url.endsWith('.ts')) return new URL('./decode-worker.js', import.meta.url);
  const tsx = import.meta.resolve('tsx/esm/api');
  const source = new URL('./decode-worker.ts', import.meta.url).href;
  const code = `const { register } = await import(${JSON.stringify(tsx)}); register(); await import(${JSON.stringify(source)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
}

/** The threads a pass uses by default: one per core. */
export function defaultDecodeThreads(): number {
  return availableParallelism();
}

/**
 * Runs `jobs` on `threads` workers (on this thread when one is enough) and reports each outcome as it comes;
 * `onOutcome` returning false stops the pass: no new job starts, the ones in flight finish, then it resolves.
 * An error that is not the image's (a worker that cannot start, a full disk) rejects it.
 */
export async function runDecodeJobs(
  jobs: readonly DecodeJob[],
  settings: DecodeSettings,
  threads: number,
  onOutcome: (index: number, outcome: DecodeOutcome) => boolean,
): Promise<void> {
  const workers = Math.max(1, Math.min(threads, Math.ceil(jobs.length / IN_FLIGHT)));
  if (workers === 1 || jobs.length === 0) return runHere(jobs, settings, onOutcome);
  const pool: Worker[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      let next = 0;
      let running = 0;
      let stopped = false;
      const fail = (error: Error) => {
        stopped = true;
        reject(error);
      };
      const feed = (worker: Worker) => {
        while (!stopped && next < jobs.length && inFlight.get(worker)! < IN_FLIGHT) {
          const id = next++;
          inFlight.set(worker, inFlight.get(worker)! + 1);
          running++;
          worker.postMessage({ id, job: jobs[id]! } satisfies WorkerRequest);
        }
        if (running === 0 && (stopped || next >= jobs.length)) resolve();
      };
      const inFlight = new Map<Worker, number>();
      for (let w = 0; w < workers; w++) {
        const worker = new Worker(workerEntry(), { workerData: settings });
        pool.push(worker);
        inFlight.set(worker, 0);
        worker.on('error', fail);
        worker.on('message', (reply: WorkerReply) => {
          if ('ready' in reply) return feed(worker);
          if (reply.id === -1 && 'error' in reply) return fail(new Error(reply.error));
          inFlight.set(worker, inFlight.get(worker)! - 1);
          running--;
          if ('error' in reply) return fail(new Error(`decoding ${jobs[reply.id]!.file}: ${reply.error}`));
          if (!stopped && !onOutcome(reply.id, reply.outcome)) stopped = true;
          feed(worker);
        });
      }
    });
  } finally {
    await Promise.all(pool.map((worker) => worker.terminate()));
  }
}
