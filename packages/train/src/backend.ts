// Chooses the TensorFlow.js backend: the native TensorFlow bindings where they installed (GPU, then CPU), else
// oneDNN (@depthfold/backend-onednn, where its addon built), else the WebAssembly backend (XNNPACK); `cpu` is the
// pure-JS reference. Detection happens here only.
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { registerOnednnBackend } from '@depthfold/backend-onednn';
import { TRAIN_BACKENDS, type TrainBackend } from '@depthfold/core';

/** A backend that loaded, and why the ones tried before it did not. */
export interface BackendChoice {
  /** The tfjs backend name now active (`tensorflow`, `wasm`, `cpu`). */
  name: string;
  /** The requested option that produced it. */
  option: Exclude<TrainBackend, 'auto'>;
  /** `option: reason` for each option tried before and failed. */
  failures: string[];
  /** What the backend runs on, where it can tell: `oneDNN 2.6.3, avx2, 2 threads`, or that TensorFlow sees no GPU. */
  detail?: string;
}

/** How to start a backend. */
export interface BackendOptions {
  /** onednn's OpenMP threads (default: one per core). */
  threads?: number;
}

const AUTO_ORDER: Exclude<TrainBackend, 'auto'>[] = ['tensorflow-gpu', 'tensorflow', 'onednn', 'wasm'];

/**
 * Throws unless the optional native package installed its binding. Its install step downloads libtensorflow, and
 * where that failed, importing the package would half-register kernels before failing; so look first.
 */
function assertNativeBinding(pkg: string): void {
  let root: string;
  try {
    root = dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`));
  } catch {
    throw new Error(`${pkg} is not installed (an optional dependency)`);
  }
  const lib = join(root, 'lib');
  const found = existsSync(lib) && readdirSync(lib).some((d) => existsSync(join(lib, d, 'tfjs_binding.node')));
  if (!found) throw new Error(`${pkg} has no native binding (its libtensorflow download failed at install time)`);
}

/**
 * Says so where tfjs-node-gpu's TensorFlow found no GPU (its CUDA or cuDNN libraries are missing, or there is no
 * device): it then runs every kernel on the CPU, and the run must not claim a GPU.
 */
export function gpuDetail(backend: unknown): string {
  const binding = (backend as { binding?: { isUsingGpuDevice?: () => boolean } } | undefined)?.binding;
  if (typeof binding?.isUsingGpuDevice !== 'function') return 'TensorFlow cannot tell whether it uses a GPU';
  return binding.isUsingGpuDevice()
    ? 'TensorFlow uses a GPU'
    : 'TensorFlow sees no GPU (no CUDA device, or its CUDA/cuDNN libraries did not load): it runs on the CPU';
}

async function load(
  option: Exclude<TrainBackend, 'auto'>,
  options: BackendOptions,
): Promise<{ name: string; detail?: () => string }> {
  switch (option) {
    case 'tensorflow-gpu':
      assertNativeBinding('@tensorflow/tfjs-node-gpu');
      await import('@tensorflow/tfjs-node-gpu' as string);
      return { name: 'tensorflow', detail: () => gpuDetail(tf.backend()) };
    case 'tensorflow':
      assertNativeBinding('@tensorflow/tfjs-node');
      await import('@tensorflow/tfjs-node' as string);
      return { name: 'tensorflow' };
    case 'onednn': {
      const info = registerOnednnBackend(options.threads === undefined ? {} : { threads: options.threads });
      const detail = `oneDNN ${info.version}, ${info.isa}, ${info.threads} thread${info.threads === 1 ? '' : 's'}`;
      return { name: 'onednn', detail: () => detail };
    }
    case 'wasm':
      await import('@tensorflow/tfjs-backend-wasm');
      return { name: 'wasm' };
    case 'cpu':
      await import('@tensorflow/tfjs-backend-cpu');
      return { name: 'cpu' };
  }
}

function reason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]!.slice(0, 200);
}

/** Activates the requested backend (`auto`: the first of tensorflow-gpu, tensorflow, onednn, wasm that works). */
export async function selectBackend(requested: TrainBackend, options: BackendOptions = {}): Promise<BackendChoice> {
  if (!TRAIN_BACKENDS.includes(requested)) {
    throw new Error(`backend: expected one of ${TRAIN_BACKENDS.join(', ')}, received ${JSON.stringify(requested)}`);
  }
  const order = requested === 'auto' ? AUTO_ORDER : [requested];
  const failures: string[] = [];
  for (const option of order) {
    try {
      const { name, detail } = await load(option, options);
      if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend('${name}') returned false`);
      await tf.ready();
      return detail ? { name, option, failures, detail: detail() } : { name, option, failures };
    } catch (error) {
      failures.push(`${option}: ${reason(error)}`);
    }
  }
  throw new Error(`backend: none of ${order.join(', ')} could start:\n  ${failures.join('\n  ')}`);
}
