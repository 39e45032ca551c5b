// The messages between the HTTP thread and an ORT worker thread (see ort-worker.ts).
import type { ExecutionProvider } from '@depthfold/infer';

/** What a worker starts with. */
export interface WorkerInit {
  /** The .onnx file's bytes, read once by the main thread. */
  readonly bytes: Uint8Array;
  /** Providers to try, in order; the first that creates a session is used. */
  readonly providers: readonly ExecutionProvider[];
  /** ORT intra-op threads; 0 leaves ORT's default (one per core). */
  readonly threads: number;
}

/** A provider that could not create a session, and why. */
export interface ProviderFailure {
  readonly provider: ExecutionProvider;
  readonly reason: string;
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
      readonly provider: ExecutionProvider;
      readonly failures: readonly ProviderFailure[];
      readonly inputNames: readonly string[];
      readonly outputNames: readonly string[];
    }
  | { readonly type: 'failed'; readonly failures: readonly ProviderFailure[] }
  | { readonly type: 'result'; readonly id: number; readonly data: Float32Array; readonly dims: readonly number[] }
  | { readonly type: 'error'; readonly id: number; readonly message: string }
  | { readonly type: 'closed' };
