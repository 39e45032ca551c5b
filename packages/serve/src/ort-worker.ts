// A worker thread holding one ONNX Runtime session. onnxruntime-node runs a session synchronously on the thread
// that calls `run`, so on the HTTP thread every batch would stall every connection; here it runs beside them. The
// session is @depthfold/infer's (its device order, fallbacks and CUDA hint), so serve and `load` start alike.
import { parentPort, workerData } from 'node:worker_threads';
import { createSession, InferDeviceError, type StartedSession } from '@depthfold/infer/node';
import type { WorkerInit, WorkerReply, WorkerRequest } from './worker-messages.js';

const port = parentPort;
if (!port) throw new Error('ort-worker.ts runs as a worker thread of @depthfold/serve');
const init = workerData as WorkerInit;

const reply = (message: WorkerReply, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);
const reasonOf = (error: unknown): string =>
  (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim();

// Any other error (a bug, not a device) ends the thread, and the pool's start reports it.
async function startSession(): Promise<StartedSession | undefined> {
  try {
    const started = await createSession(init.bytes, init.device, {
      threads: init.threads,
      graphOptimizationLevel: 'all',
      // The HTTP thread shares the cores with ORT's threads: spinning between a call's parallel sections took the
      // CPU it needed (bench:serve at 64 connections: 1.3-1.5 instead of 1.8-2.2 ms of process CPU per request,
      // 1.2-1.5x the throughput, 2 vCPUs).
      spinWait: false,
    });
    const { device, provider, fallbacks, session } = started;
    reply({
      type: 'ready',
      device,
      provider,
      fallbacks: [...fallbacks],
      inputNames: [...session.inputNames],
      outputNames: [...session.outputNames],
    });
    return started;
  } catch (error) {
    if (!(error instanceof InferDeviceError)) throw error;
    reply({ type: 'failed', device: error.device, failures: [...error.failures], available: [...error.available] });
    return undefined;
  }
}

const started = await startSession();
if (started) {
  const { session } = started;
  port.on('message', (message: WorkerRequest) => {
    if (message.type === 'close') {
      void session.release().finally(() => {
        reply({ type: 'closed' });
        port.close();
      });
      return;
    }
    const { id, inputName, outputName, data, dims } = message;
    session
      .run(inputName, { data, dims }, outputName)
      .then((output) => {
        // A copy: the tensor's memory belongs to ORT and cannot be transferred.
        const values = new Float32Array(output.data);
        reply({ type: 'result', id, data: values, dims: [...output.dims] }, [values.buffer]);
      })
      .catch((error: unknown) => reply({ type: 'error', id, message: reasonOf(error) }));
  });
} else {
  port.close();
}
