// A decode thread of the cache's first pass: runs the jobs it is sent, one at a time per message, and answers each.
// libvips gets one thread here, as the pool already runs one worker per core.
import { parentPort, workerData } from 'node:worker_threads';
import { type DecodeJob, type DecodeSettings, runDecodeJob } from './decode-job.js';
import type { WorkerReply, WorkerRequest } from './decode-pool.js';
import { loadSharp } from './sharp-loader.js';

const port = parentPort!;
const settings = workerData as DecodeSettings;

try {
  const sharp = await loadSharp();
  sharp.concurrency(1);
  // libvips's operation cache would only hold files this thread never opens again.
  sharp.cache(false);
  port.postMessage({ id: -1, ready: true } satisfies WorkerReply);
} catch (error) {
  port.postMessage({ id: -1, error: (error as Error).message } satisfies WorkerReply);
}

port.on('message', (request: WorkerRequest) => {
  const job: DecodeJob = request.job;
  runDecodeJob(job, settings).then(
    (outcome) => port.postMessage({ id: request.id, outcome } satisfies WorkerReply),
    (error: unknown) =>
      port.postMessage({
        id: request.id,
        error: error instanceof Error ? error.message : String(error),
      } satisfies WorkerReply),
  );
});
