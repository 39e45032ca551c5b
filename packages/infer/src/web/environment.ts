// What the page offers ONNX Runtime Web, read once: WebGPU, cross-origin isolation (which alone gives
// SharedArrayBuffer, so WebAssembly threads) and the number of cores. Also runs in Node, where none of it exists.

/** The capabilities of the page (or worker) that the web entry runs in. */
export interface WebEnvironment {
  /** `navigator.gpu` exists; an adapter may still be refused. */
  readonly webgpu: boolean;
  /** The page is cross-origin isolated (served with COOP `same-origin` and COEP `require-corp`). */
  readonly crossOriginIsolated: boolean;
  /** `navigator.hardwareConcurrency`, 1 where unknown. */
  readonly cores: number;
  /** WebAssembly threads to use: min(4, cores) when cross-origin isolated, else 1. */
  readonly wasmThreads: number;
}

/** ORT Web's own default stops at 4 too: threads synchronise at every operator, which small models do not repay. */
export const MAX_WASM_THREADS = 4;

/** The globals that detection reads; `globalThis` in a page, a worker or Node. */
export interface WebScope {
  navigator?: { hardwareConcurrency?: number; gpu?: unknown };
  crossOriginIsolated?: boolean;
}

let detected: WebEnvironment | undefined;

/** The environment of this page, detected on the first call. */
export function webEnvironment(): WebEnvironment {
  detected ??= detectEnvironment(globalThis as WebScope);
  return detected;
}

/** The environment that `scope`'s globals describe (Node 20 has no `navigator`). */
export function detectEnvironment(scope: WebScope): WebEnvironment {
  const nav = scope.navigator ?? {};
  const isolated = scope.crossOriginIsolated === true;
  const cores =
    typeof nav.hardwareConcurrency === 'number' && nav.hardwareConcurrency > 0 ? nav.hardwareConcurrency : 1;
  return Object.freeze({
    webgpu: nav.gpu !== undefined && nav.gpu !== null,
    crossOriginIsolated: isolated,
    cores,
    wasmThreads: isolated ? Math.min(MAX_WASM_THREADS, cores) : 1,
  });
}
