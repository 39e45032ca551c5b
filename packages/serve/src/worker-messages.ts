// The messages between the HTTP thread and an ORT worker thread (see ort-worker.ts).
// A worker's start is @depthfold/infer's createSession; a failure to start crosses the thread as the fields of its
// InferDeviceError, which the pool builds again on this side.
import type { ConcreteDevice, Device, DeviceFallback, ExecutionProvider } from '@depthfold/infer';

/** What a worker starts with. */
export interface WorkerInit {
  /** The .onnx file's bytes, read once by the main thread. */
  readonly bytes: Uint8Array;
  /** The device whose providers are tried, in the order of infer's device table; the first that starts is used. */
  readonly device: Device;
  /** ORT intra-op threads; 0 leaves ORT's default (one per core). */
  readonly threads: number;
}

/** Main thread to worker. */
export type WorkerRequest =
  | {
      readonly type: 'run';
      readonly id: number;
      readonly inputName: string;
      readonly outputName: string;
      readonly data: Float32Array;
      readonly dims: readonly number[];
    }
  | { readonly type: 'close' };

/** Worker to main thread. */
export type WorkerReply =
  | {
      readonly type: 'ready';
      readonly device: ConcreteDevice;
      readonly provider: ExecutionProvider;
      readonly fallbacks: readonly DeviceFallback[];
      readonly inputNames: readonly string[];
      readonly outputNames: readonly string[];
    }
  | {
      readonly type: 'failed';
      readonly device: Device;
      readonly failures: readonly DeviceFallback[];
      readonly available: readonly Device[];
    }
  | { readonly type: 'result'; readonly id: number; readonly data: Float32Array; readonly dims: readonly number[] }
  | { readonly type: 'error'; readonly id: number; readonly message: string }
  | { readonly type: 'closed' };
