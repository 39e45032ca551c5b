// A worker thread holding one ONNX Runtime session. onnxruntime-node runs a session synchronously on the thread
// that calls `run`, so on the HTTP thread every batch would stall every connection; here it runs beside them.
import { parentPort, workerData } from 'node:worker_threads';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import type { ProviderFailure, WorkerInit, WorkerReply, WorkerRequest } from './worker-messages.js';

const CUDA_HINT = 'npm ships onnxruntime-node without its CUDA provider: `pnpm setup:cuda` fetches it';

const port = parentPort;
if (!port) throw new Error('ort-worker.ts runs as a worker thread of @depthfold/serve');
const init = workerData as WorkerInit;

const reply = (message: WorkerReply, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);
const reasonOf = (error: unknown): string =>
  (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim();

async function createSession(): Promise<InferenceSession | undefined> {
  const failures: ProviderFailure[] = [];
  for (const provider of init.providers) {
    try {
      const session = await InferenceSession.create(init.bytes, {
        executionProviders: [provider],
        graphOptimizationLevel: 'all',
        ...(init.threads > 0 ? { intraOpNumThreads: init.threads } : {}),
      });
      reply({
        type: 'ready',
        provider,
        failures,
        inputNames: [...session.inputNames],
        outputNames: [...session.outputNames],
      });
      return session;
    } catch (error) {
      failures.push({ provider, reason: provider === 'cuda' ? `${reasonOf(error)} (${CUDA_HINT})` : reasonOf(error) });
    }
  }
  reply({ type: 'failed', failures });
  return undefined;
}

const session = await createSession();
if (session) {
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
      .run({ [inputName]: new Tensor('float32', data, dims) }, [outputName])
      .then((outputs) => {
        const output = outputs[outputName];
        if (output?.type !== 'float32')
          throw new Error(`output ${JSON.stringify(outputName)} is ${output ? output.type : 'missing'}, not float32`);
        // A copy: the tensor's memory belongs to ORT and cannot be transferred.
        const values = new Float32Array(output.data as Float32Array);
        reply({ type: 'result', id, data: values, dims: [...output.dims] }, [values.buffer]);
      })
      .catch((error: unknown) => reply({ type: 'error', id, message: reasonOf(error) }));
  });
} else {
  port.close();
}
