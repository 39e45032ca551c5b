// Registers the onednn backend: every kernel of the cpu backend under the new name, then the native ones over
// them (tfjs's registry keys kernels by name and backend, so a backend may start from another's set).
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { MathBackendOnednn, ONEDNN_BACKEND_NAME } from './backend.js';
import { convKernels } from './kernels/conv.js';
import { eltwiseKernels } from './kernels/eltwise.js';
import { layoutKernels } from './kernels/layout.js';
import { normKernels } from './kernels/norm.js';
import { reduceKernels } from './kernels/reduce.js';
import { optimizerKernels } from './kernels/sgd.js';
import { loadBinding, type OnednnInfo } from './native.js';

const NATIVE_KERNELS: tf.KernelConfig[] = [
  ...convKernels,
  ...normKernels,
  ...eltwiseKernels,
  ...layoutKernels,
  ...reduceKernels,
  ...optimizerKernels,
];

/** Options of {@link registerOnednnBackend}. */
export interface OnednnOptions {
  /** oneDNN's OpenMP threads; default one per core (`os.availableParallelism()`). */
  threads?: number;
}

/** Whether the addon can be had here, and if not, why. */
export function onednnAvailability(): { available: true } | { available: false; reason: string } {
  const loaded = loadBinding();
  return 'binding' in loaded ? { available: true } : { available: false, reason: loaded.reason };
}

let registered = false;

/**
 * Registers the `onednn` backend (once) and sets its threads; the caller then activates it with
 * `tf.setBackend('onednn')`. Throws, naming the reason, where the addon was not built or does not load.
 *
 * @returns The library's version, instruction set and threads.
 */
export function registerOnednnBackend(options: OnednnOptions = {}): OnednnInfo {
  const loaded = loadBinding();
  if (!('binding' in loaded)) throw new Error(loaded.reason);
  const threads = options.threads ?? availableParallelism();
  if (!Number.isInteger(threads) || threads < 1) {
    throw new Error(`onednn: threads: expected a positive integer, received ${JSON.stringify(threads)}`);
  }
  const { binding } = loaded;
  if (!registered) {
    const native = new Set(NATIVE_KERNELS.map((k) => k.kernelName));
    for (const config of tf.getKernelsForBackend('cpu')) {
      if (!native.has(config.kernelName)) tf.registerKernel({ ...config, backendName: ONEDNN_BACKEND_NAME });
    }
    for (const config of NATIVE_KERNELS) tf.registerKernel(config);
    tf.registerBackend(ONEDNN_BACKEND_NAME, () => new MathBackendOnednn(binding), 2);
    registered = true;
  }
  binding.setThreads(threads);
  return binding.info();
}

/** Native kernel calls by kernel name on the registered onednn backend (empty before it starts). */
export function nativeCallCounts(): Map<string, number> {
  const backend = tf.engine().registry[ONEDNN_BACKEND_NAME];
  return backend instanceof MathBackendOnednn ? new Map(backend.nativeCalls) : new Map();
}

/** Sets every native call count back to zero. */
export function resetNativeCallCounts(): void {
  const backend = tf.engine().registry[ONEDNN_BACKEND_NAME];
  if (backend instanceof MathBackendOnednn) backend.nativeCalls.clear();
}
