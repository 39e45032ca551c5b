// Chooses the TensorFlow.js backend: the native TensorFlow bindings where they installed (GPU, then CPU), else
// the WebAssembly backend (XNNPACK), else the pure-JS reference backend. Detection happens here only.
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { TRAIN_BACKENDS, type TrainBackend } from '@depthfold/core';

/** A backend that loaded, and why the ones tried before it did not. */
export interface BackendChoice {
  /** The tfjs backend name now active (`tensorflow`, `wasm`, `cpu`). */
  name: string;
  /** The requested option that produced it. */
  option: Exclude<TrainBackend, 'auto'>;
  /** `option: reason` for each option tried before and failed. */
  failures: string[];
}

const AUTO_ORDER: Exclude<TrainBackend, 'auto'>[] = ['tensorflow-gpu', 'tensorflow', 'wasm'];

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

async function load(option: Exclude<TrainBackend, 'auto'>): Promise<string> {
  switch (option) {
    case 'tensorflow-gpu':
      assertNativeBinding('@tensorflow/tfjs-node-gpu');
      await import('@tensorflow/tfjs-node-gpu' as string);
      return 'tensorflow';
    case 'tensorflow':
      assertNativeBinding('@tensorflow/tfjs-node');
      await import('@tensorflow/tfjs-node' as string);
      return 'tensorflow';
    case 'wasm':
      await import('@tensorflow/tfjs-backend-wasm');
      return 'wasm';
    case 'cpu':
      await import('@tensorflow/tfjs-backend-cpu');
      return 'cpu';
  }
}

function reason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]!.slice(0, 200);
}

/** Activates the requested backend (`auto`: the first of tensorflow-gpu, tensorflow, wasm that works). */
export async function selectBackend(requested: TrainBackend): Promise<BackendChoice> {
  if (!TRAIN_BACKENDS.includes(requested)) {
    throw new Error(`backend: expected one of ${TRAIN_BACKENDS.join(', ')}, received ${JSON.stringify(requested)}`);
  }
  const order = requested === 'auto' ? AUTO_ORDER : [requested];
  const failures: string[] = [];
  for (const option of order) {
    try {
      const name = await load(option);
      if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend('${name}') returned false`);
      await tf.ready();
      return { name, option, failures };
    } catch (error) {
      failures.push(`${option}: ${reason(error)}`);
    }
  }
  throw new Error(`backend: none of ${order.join(', ')} could start:\n  ${failures.join('\n  ')}`);
}
