// Chooses the TensorFlow.js backend: the native TensorFlow bindings where they installed (GPU, then CPU), else
// oneDNN (@depthfold/backend-onednn, where its addon built), else the WebAssembly backend (XNNPACK); `cpu` is the
// pure-JS reference. Detection happens here only.
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { onednnBf16Support, registerOnednnBackend } from '@depthfold/backend-onednn';
import { TRAIN_BACKENDS, TRAIN_PRECISIONS, type TrainBackend, type TrainPrecision } from '@depthfold/core';

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
  /** The precision its convs and matmuls run in. */
  precision: Exclude<TrainPrecision, 'auto'>;
  /** Why `auto` chose fp32, where it did. */
  precisionNote?: string;
}

/** How to start a backend. */
export interface BackendOptions {
  /** onednn's OpenMP threads (default: one per core). */
  threads?: number;
  /** fp32 (default), bf16 (onednn on a CPU with bf16 dot products; refused elsewhere), or auto. */
  precision?: TrainPrecision;
}

/**
 * The precision a backend runs `requested` in. bf16 is the onednn backend's alone, where oneDNN has bf16 dot products
 * (AVX512-BF16, AMX); `auto` takes it there and fp32 elsewhere, saying why. No loss scaling is needed for bf16 (see
 * @depthfold/backend-onednn's setOnednnPrecision).
 * @throws Error naming the backend, or oneDNN's instruction set and what it lacks, where bf16 is asked for and cannot run.
 */
export function resolvePrecision(
  requested: TrainPrecision,
  backend: string,
): { precision: Exclude<TrainPrecision, 'auto'>; note?: string } {
  if (!TRAIN_PRECISIONS.includes(requested)) {
    throw new Error(`precision: expected one of ${TRAIN_PRECISIONS.join(', ')}, received ${JSON.stringify(requested)}`);
  }
  if (requested === 'fp32') return { precision: 'fp32' };
  const support = backend === 'onednn' ? onednnBf16Support() : undefined;
  if (support?.supported) {
    if (requested === 'bf16') return { precision: 'bf16' };
    return {
      precision: 'bf16',
      note: `precision auto chose bf16: oneDNN runs ${support.isa}, which has bf16 dot products`,
    };
  }
  const why = support?.reason ?? `bf16 runs on the onednn backend only, and this run's backend is ${backend}`;
  if (requested === 'bf16') throw new Error(`precision bf16: ${why}`);
  return { precision: 'fp32', note: `precision auto chose fp32: ${why}` };
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
): Promise<{ name: string; detail?: () => string; precision?: Exclude<TrainPrecision, 'auto'>; note?: string }> {
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
      const { precision, note } = resolvePrecision(options.precision ?? 'fp32', 'onednn');
      const info = registerOnednnBackend({
        ...(options.threads === undefined ? {} : { threads: options.threads }),
        precision,
      });
      const detail = `oneDNN ${info.version}, ${info.isa}, ${info.threads} thread${info.threads === 1 ? '' : 's'}, ${precision}`;
      return { name: 'onednn', detail: () => detail, precision, ...(note ? { note } : {}) };
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

/**
 * Activates the requested backend (`auto`: the first of tensorflow-gpu, tensorflow, onednn, wasm that works) in the
 * requested precision (fp32 by default).
 * @throws Error listing why each backend failed, or why bf16 cannot run on the one that started.
 */
export async function selectBackend(requested: TrainBackend, options: BackendOptions = {}): Promise<BackendChoice> {
  if (!TRAIN_BACKENDS.includes(requested)) {
    throw new Error(`backend: expected one of ${TRAIN_BACKENDS.join(', ')}, received ${JSON.stringify(requested)}`);
  }
  const order = requested === 'auto' ? AUTO_ORDER : [requested];
  const failures: string[] = [];
  for (const option of order) {
    let loaded: Awaited<ReturnType<typeof load>>;
    try {
      loaded = await load(option, options);
      if (!(await tf.setBackend(loaded.name))) throw new Error(`tf.setBackend('${loaded.name}') returned false`);
      await tf.ready();
    } catch (error) {
      // A refused bf16 is the user's request, not the backend's failure: it is not papered over by the next backend.
      if (error instanceof Error && error.message.startsWith('precision bf16:')) throw error;
      failures.push(`${option}: ${reason(error)}`);
      continue;
    }
    const { name, detail } = loaded;
    const { precision, note } = loaded.precision
      ? { precision: loaded.precision, note: loaded.note }
      : resolvePrecision(options.precision ?? 'fp32', name);
    return {
      name,
      option,
      failures,
      precision,
      ...(detail ? { detail: detail() } : {}),
      ...(note ? { precisionNote: note } : {}),
    };
  }
  throw new Error(`backend: none of ${order.join(', ')} could start:\n  ${failures.join('\n  ')}`);
}
