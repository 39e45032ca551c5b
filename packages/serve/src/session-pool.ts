// ORT sessions on worker threads, one per call allowed in flight (like the instances of a Triton instance group).
// The first worker settles the device (trying `auto`'s list in order); the others start on it.
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  type ConcreteDevice,
  type Device,
  type DeviceFallback,
  type ExecutionProvider,
  InferDeviceError,
} from '@depthfold/infer';
import type { WorkerInit, WorkerReply, WorkerRequest } from './worker-messages.js';

// The worker is a sibling module: ort-worker.js in dist/, or ort-worker.ts when this file runs from source
// through tsx. Node 20 does not carry the parent's `--import tsx` loader into a worker, so from source the worker
// first registers tsx itself, then imports the module.
const FROM_SOURCE = extname(fileURLToPath(import.meta.url)) === '.ts';

function newWorker(init: WorkerInit): Worker {
  if (!FROM_SOURCE) return new Worker(new URL('./ort-worker.js', import.meta.url), { workerData: init });
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./ort-worker.ts', import.meta.url).href;
  const code = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(code, { eval: true, workerData: init });
}

/** How the sessions are made and what they are fed. */
export interface SessionPoolOptions {
  /** Sessions, i.e. ORT calls that can run at once. */
  readonly instances: number;
  /** ORT intra-op threads per session; 0 for ORT's default. */
  readonly threads: number;
  readonly inputName: string;
  readonly outputName: string;
  /** The input's dims after the batch dimension (C, H, W). */
  readonly inputDims: readonly number[];
  /** Called when a worker dies; the pool is then unhealthy and refuses work. */
  readonly onFailure?: (reason: string) => void;
}

interface Call {
  readonly resolve: (output: Float32Array) => void;
  readonly reject: (error: Error) => void;
}

class SessionWorker {
  readonly worker: Worker;
  call: Call | undefined;
  closing = false;

  constructor(worker: Worker) {
    this.worker = worker;
  }
}

/** A fixed set of ORT sessions, each on its own thread. */
export class SessionPool {
  /** The device every session runs on. */
  readonly device: ConcreteDevice;
  /** The provider every session runs on. */
  readonly provider: ExecutionProvider;
  /** Devices the first session tried before `device`, with why each failed. */
  readonly fallbacks: readonly DeviceFallback[];
  readonly #options: SessionPoolOptions;
  readonly #workers: SessionWorker[] = [];
  #nextId = 0;
  #broken: string | undefined;

  private constructor(started: Started, options: SessionPoolOptions) {
    this.device = started.device;
    this.provider = started.provider;
    this.fallbacks = started.fallbacks;
    this.#options = options;
  }

  /**
   * Starts `options.instances` sessions of the model.
   * @param device - Its providers are tried in order by the first session; the rest use the device that worked.
   * @throws InferDeviceError when no device starts; Error when the graph lacks the input or output named.
   */
  static async start(bytes: Uint8Array, device: Device, options: SessionPoolOptions): Promise<SessionPool> {
    const first = await spawn({ bytes, device, threads: options.threads }, options);
    const pool = new SessionPool(first, options);
    pool.#adopt(first.worker);
    try {
      const rest = await Promise.all(
        Array.from({ length: options.instances - 1 }, () =>
          spawn({ bytes, device: first.device, threads: options.threads }, options),
        ),
      );
      for (const r of rest) pool.#adopt(r.worker);
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  /** False once a worker has died. */
  get healthy(): boolean {
    return this.#broken === undefined;
  }

  /** Sessions not running a call. */
  get idle(): number {
    return this.#workers.filter((w) => !w.call && !w.closing).length;
  }

  /**
   * Runs one batch on an idle session.
   * @returns `rows` rows of output, in order.
   * @throws Error when every session is busy (the batcher never lets that happen) or the pool is broken.
   */
  run(input: Float32Array, rows: number): Promise<Float32Array> {
    if (this.#broken !== undefined) return Promise.reject(new Error(`the model's sessions are down: ${this.#broken}`));
    const target = this.#workers.find((w) => !w.call && !w.closing);
    if (!target) return Promise.reject(new Error('every session is busy'));
    const { inputName, outputName, inputDims } = this.#options;
    return new Promise((resolve, reject) => {
      target.call = { resolve, reject };
      const message: WorkerRequest = {
        type: 'run',
        id: this.#nextId++,
        inputName,
        outputName,
        data: input,
        dims: [rows, ...inputDims],
      };
      // Transferred, not copied: the batch was built for this call and is not read again here.
      target.worker.postMessage(message, [input.buffer as ArrayBuffer]);
    });
  }

  /** Releases every session and ends the threads; a call in flight is answered first. */
  async close(): Promise<void> {
    await Promise.all(
      this.#workers.map(async (w) => {
        w.closing = true;
        const exited = new Promise<void>((resolve) => w.worker.once('exit', () => resolve()));
        w.worker.postMessage({ type: 'close' } satisfies WorkerRequest);
        // A session wedged in native code would keep the process alive; give it a moment, then end the thread.
        const timer = setTimeout(() => void w.worker.terminate(), 5000);
        await exited;
        clearTimeout(timer);
      }),
    );
    this.#workers.length = 0;
  }

  #adopt(worker: Worker): void {
    const w = new SessionWorker(worker);
    this.#workers.push(w);
    worker.on('message', (reply: WorkerReply) => {
      const call = w.call;
      if (reply.type === 'result' || reply.type === 'error') w.call = undefined;
      if (reply.type === 'result') call?.resolve(reply.data);
      else if (reply.type === 'error') call?.reject(new Error(`onnxruntime: ${reply.message}`));
    });
    const fail = (reason: string): void => {
      if (w.closing) return;
      this.#broken ??= reason;
      w.call?.reject(new Error(`the session's thread died: ${reason}`));
      w.call = undefined;
      w.closing = true;
      this.#options.onFailure?.(reason);
    };
    worker.on('error', (error) => fail(error.message));
    worker.on('exit', (code) => fail(`exited with code ${code}`));
  }
}

/** A worker whose session is ready, and where it started. */
interface Started {
  readonly worker: Worker;
  readonly device: ConcreteDevice;
  readonly provider: ExecutionProvider;
  readonly fallbacks: readonly DeviceFallback[];
}

// One worker, resolved when its session is ready.
function spawn(init: WorkerInit, options: SessionPoolOptions): Promise<Started> {
  return new Promise((resolve, reject) => {
    const worker = newWorker(init);
    // Only our own listeners come off: Worker keeps listeners of its own (removeAllListeners would cut its port).
    const detach = (): void => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    const settle = (error: Error): void => {
      detach();
      void worker.terminate();
      reject(error);
    };
    const onMessage = (reply: WorkerReply): void => {
      if (reply.type === 'failed') settle(new InferDeviceError(reply.device, reply.failures, reply.available));
      else if (reply.type !== 'ready') settle(new Error(`the session's thread said ${reply.type} before it was ready`));
      else if (!reply.inputNames.includes(options.inputName) || !reply.outputNames.includes(options.outputName)) {
        settle(
          new Error(
            `the graph has inputs [${reply.inputNames.join(', ')}] and outputs [${reply.outputNames.join(', ')}], but its metadata names input ${JSON.stringify(options.inputName)} and output ${JSON.stringify(options.outputName)}`,
          ),
        );
      } else {
        detach();
        resolve({ worker, device: reply.device, provider: reply.provider, fallbacks: reply.fallbacks });
      }
    };
    const onError = (error: Error): void => settle(error);
    const onExit = (code: number): void =>
      settle(new Error(`the session's thread exited with code ${code} before it was ready`));
    worker.on('message', onMessage);
    worker.once('error', onError);
    worker.once('exit', onExit);
  });
}
