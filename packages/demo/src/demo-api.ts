// What the page offers scripts (and the browser tests) as `window.depthfold`.
import type { Device, DeviceFallback, ExecutionProvider, Prediction } from '@depthfold/infer';

/** Where the page's classifier runs. */
export interface DemoRun {
  device: Exclude<Device, 'auto'>;
  provider: ExecutionProvider;
  /** Threads of ONNX Runtime's WebAssembly runtime. */
  wasmThreads: number;
  /** Devices tried before `device`, with why each failed. */
  fallbacks: DeviceFallback[];
  /** Whether the page is cross-origin isolated (COOP/COEP), which WebAssembly threads need. */
  crossOriginIsolated: boolean;
}

/** One classification as the page shows it. */
export interface DemoResult {
  top: Prediction[];
  /** Milliseconds `classify` took, pre-processing included. */
  latencyMs: number;
}

/** What the network makes of one image: its input before normalisation (HWC, 0..255) and its logits. */
export interface DemoInspection {
  input: number[];
  logits: number[];
}

/** `window.depthfold`: drive the page without a pointer. */
export interface DemoApi {
  /** Settles when the classifier of the page's first device (`?device=`, default auto) has loaded. */
  ready: Promise<DemoRun>;
  /** Loads the model on `device`, as the device selector does. */
  use(device: Device): Promise<DemoRun>;
  /** Shows raw pixels (HWC, 0..255, the model's size) and classifies them as they are. */
  classify(pixels: ArrayLike<number>): Promise<DemoResult>;
  /**
   * Fetches image files (as Blobs, as a dropped file is) and returns what the page's classifier makes of each, without
   * showing anything: for comparing the browser's decoding and preprocessing with other runtimes'.
   */
  inspect(urls: readonly string[]): Promise<DemoInspection[]>;
}

declare global {
  interface Window {
    depthfold: DemoApi;
  }
  /** The model's URL relative to the page, set by vite.config.ts. */
  const __DEPTHFOLD_MODEL_URL__: string;
}
