// What a platform entry supplies to the common classifier: reading a model and running it with one execution
// provider. Keeps onnxruntime-node and onnxruntime-web out of the platform-free code.
import type { ExecutionProvider, Platform } from './device.js';
import type { ImageReader } from './image-input.js';

/** A float32 tensor as plain data. */
export interface TensorData {
  data: Float32Array;
  dims: readonly number[];
}

/** An ONNX Runtime session reduced to what the classifier needs. */
export interface ModelSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Runs the model on one float32 input and returns one float32 output. */
  run(inputName: string, input: TensorData, outputName: string): Promise<TensorData>;
  /** Threads of the WebAssembly runtime that runs the session (web); absent where the runtime is native. */
  readonly wasmThreads?: number;
  /** Frees the session's native resources. */
  release(): Promise<void>;
}

/** A model's bytes and a name for it in errors. */
export interface ModelSource {
  bytes: Uint8Array;
  /** A path or `(model bytes)`. */
  source: string;
}

/** How ONNX Runtime runs a session; each field left out keeps ONNX Runtime's default. */
export interface SessionOptions {
  /** Intra-op threads; 0 or absent leaves ONNX Runtime's default (one per core). */
  readonly threads?: number;
  /** Graph optimisations ONNX Runtime applies when it loads the model; its default is `all`. */
  readonly graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  /**
   * Whether idle intra-op threads spin-wait for the next parallel section (ONNX Runtime's default, `true`). `false`
   * makes them sleep, which frees the cores for the process's other threads, e.g. a server's HTTP thread. A backend
   * whose runtime has no such setting (the web's) ignores it.
   */
  readonly spinWait?: boolean;
}

/** One platform's way of loading and running models. */
export interface InferenceBackend {
  readonly platform: Platform;
  /**
   * What the platform decodes besides raw pixels and raw images (Node: paths and encoded bytes; web: encoded bytes,
   * Blobs and DOM images); without it, `classify` takes those two only.
   */
  readonly images?: ImageReader;
  /** Reads a model given as a path or URL (platform-specific) or as bytes. */
  readModel(model: string | Uint8Array): Promise<ModelSource>;
  /**
   * Creates a session that runs on `provider`; throws (with the runtime's reason) when the provider cannot. A backend
   * whose runtime sets threads elsewhere (the web's, per page) may ignore `options`.
   */
  createSession(bytes: Uint8Array, provider: ExecutionProvider, options?: SessionOptions): Promise<ModelSession>;
  /** Providers the runtime build supports, for error messages. */
  supportedProviders(): readonly string[];
}
