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
import { poolKernels } from './kernels/pool.js';
import { reduceKernels } from './kernels/reduce.js';
import { optimizerKernels } from './kernels/sgd.js';
import { loadBinding, type OnednnBinding, type OnednnInfo } from './native.js';
import { type OnednnPrecision, onednnPrecision, setOnednnPrecision } from './precision.js';

const NATIVE_KERNELS: tf.KernelConfig[] = [
  ...convKernels,
  ...normKernels,
  ...eltwiseKernels,
  ...layoutKernels,
  ...poolKernels,
  ...reduceKernels,
  ...optimizerKernels,
];

/** Options of {@link registerOnednnBackend}. */
export interface OnednnOptions {
  /** oneDNN's OpenMP threads; default one per core (`os.availableParallelism()`). */
  threads?: number;
  /**
   * The precision of the convolutions and matmuls (see {@link setOnednnPrecision}); default: the one in force,
   * fp32 at first. bf16 throws with the reason where oneDNN here has no bf16 dot products.
   */
  precision?: OnednnPrecision;
}

function requireBinding(): OnednnBinding {
  const loaded = loadBinding();
  if (!('binding' in loaded)) throw new Error(loaded.reason);
  return loaded.binding;
}

/** Whether the addon can be had here, and if not, why. */
export function onednnAvailability(): { available: true } | { available: false; reason: string } {
  const loaded = loadBinding();
  return 'binding' in loaded ? { available: true } : { available: false, reason: loaded.reason };
}

let registered = false;

/**
 * Registers the `onednn` backend (once) and sets its threads and precision; the caller then activates it with
 * `tf.setBackend('onednn')`. Throws, naming the reason, where the addon was not built or does not load, or where
 * bf16 is asked for and cannot run here.
 *
 * @returns The library's version, instruction set and threads, and the precision in force.
 */
export function registerOnednnBackend(options: OnednnOptions = {}): OnednnInfo {
  const binding = requireBinding();
  const threads = options.threads ?? availableParallelism();
  if (!Number.isInteger(threads) || threads < 1) {
    throw new Error(`onednn: threads: expected a positive integer, received ${JSON.stringify(threads)}`);
  }
  if (options.precision !== undefined) setOnednnPrecision(options.precision);
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
  return onednnInfo();
}

/**
 * The library's version, the instruction set it runs (`ONEDNN_MAX_CPU_ISA` caps it), its threads, and the
 * precision in force. Throws, naming the reason, where the addon is missing.
 */
export function onednnInfo(): OnednnInfo {
  return { ...requireBinding().info(), precision: onednnPrecision() };
}

/** Native kernel calls by kernel name on the registered onednn backend (empty before it starts). */
export function nativeCallCounts(): Map<string, number> {
  const backend = tf.engine().registry[ONEDNN_BACKEND_NAME];
  return backend instanceof MathBackendOnednn ? new Map(backend.nativeCalls) : new Map();
}

/**
 * Native calls asked to run in bf16 on the registered onednn backend, by kernel name: how many ran in bf16, and how
 * many in fp32 because oneDNN had no bf16 implementation of their shape (empty before it starts, and in fp32).
 */
export function bf16CallCounts(): Map<string, { bf16: number; fp32: number }> {
  const backend = tf.engine().registry[ONEDNN_BACKEND_NAME];
  if (!(backend instanceof MathBackendOnednn)) return new Map();
  return new Map([...backend.bf16Calls].map(([name, counts]) => [name, { ...counts }]));
}

/** Sets every native call count (and bf16 call count) back to zero. */
export function resetNativeCallCounts(): void {
  const backend = tf.engine().registry[ONEDNN_BACKEND_NAME];
  if (backend instanceof MathBackendOnednn) {
    backend.nativeCalls.clear();
    backend.bf16Calls.clear();
  }
}
