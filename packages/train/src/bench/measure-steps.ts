// Times training steps of any registered network with stochastic depth on random data, for `pnpm bench:train` (issue 3).
// Each step draws its gates b_l ~ Bernoulli(p_l) from the schedule, as training does, so a dropped block runs only
// its shortcut and the step time reflects the blocks that ran. Steps run on the trainer's own engines: in this
// thread for one worker, else split over data-parallel worker threads.
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import {
  TRAIN_BACKENDS,
  createRng,
  deriveSeed,
  type InputShape,
  residualLayers,
  resolveArchitecture,
  survivalProbs,
  topologyOf,
  type SurvivalRule,
  type TrainBackend,
  type TrainPrecision,
} from '@depthfold/core';
import { selectBackend } from '../backend.js';
import { drawGates } from '../gates.js';
import { initialTensors } from '../network.js';
import { LocalEngine } from '../parallel/local-engine.js';
import { WorkerEngine } from '../parallel/worker-engine.js';
import { workerCount } from '../trainer.js';

/** Options of {@link measureTrainSteps}. */
export interface MeasureOptions {
  /** A network name (`resnet20`, `resnet50`) or a family; default `resnet20`. */
  arch?: string;
  /** The network's depth, replacing the arch's (`resnet20` with depth 56 is ResNet-56). */
  depth?: number;
  /** Input size and channels; default Fashion-MNIST's 28x28x1. */
  input?: InputShape;
  /** Survival schedule of the gates; `none` runs every block (full depth). */
  survivalRule: SurvivalRule;
  /** p_L, the survival probability of the last block (ignored by `none`). */
  survivalProb: number;
  /** Images per step. */
  batchSize: number;
  /** Untimed steps first (compilation, allocation, caches). */
  warmup: number;
  /** Timed steps. */
  steps: number;
  /** A training backend name (`auto`, `tensorflow-gpu`, `tensorflow`, `onednn`, `wasm`, `cpu`); default `auto`. */
  backend?: string;
  /** Data-parallel worker threads; 0 picks as training does (one per core on wasm); default 1. */
  workers?: number;
  /** onednn's OpenMP threads per worker; 0 shares the cores among the workers, as training does; default 0. */
  threads?: number;
  /** Precision of the convs and matmuls: fp32 (default), bf16 (onednn with bf16 dot products) or auto. */
  precision?: TrainPrecision;
  /** Seed of the weights, the random batch and the gates; default 1. */
  seed?: number;
  /** Steps profiled kernel by kernel after the timed ones (`tf.profile`; in this thread only, so one worker); default 0. */
  profileSteps?: number;
}

/** One kernel's part of the profiled steps. */
export interface KernelShare {
  name: string;
  /** Milliseconds per step inside the kernel. */
  msPerStep: number;
  /** Calls per step. */
  callsPerStep: number;
  /** Its share of the profiled steps' wall-clock time. */
  share: number;
}

/** Per-step figures of the timed steps of {@link measureTrainSteps}. */
export interface MeasureResult {
  /** Wall-clock milliseconds of each timed step: forward, backward and optimizer update, to the loss on the host. */
  msPerStep: number[];
  /** How many residual blocks ran (b_l = 1) in each timed step. */
  blocksRun: number[];
  /** The tfjs backend that ran (`tensorflow`, `wasm`, `cpu`). */
  backend: string;
  /** The precision its convs and matmuls ran in. */
  precision: string;
  /** How many workers ran the steps. */
  workers: number;
  /** Kernels by their share of a profiled step, largest first (empty without `profileSteps`). */
  kernels: KernelShare[];
}

/** Default input of the benchmark: Fashion-MNIST's 28x28x1, 10 classes. */
const INPUT: InputShape = { height: 28, width: 28, channels: 1 };
const NUM_CLASSES = 10;
/** The default training run's hyper-parameters (the learning rate does not change the cost of a step). */
const HYPER_PARAMETERS = { learningRate: 0.1, momentum: 0.9, weightDecay: 1e-4 } as const;

function isTrainBackend(name: string): name is TrainBackend {
  return (TRAIN_BACKENDS as readonly string[]).includes(name);
}

function checkCount(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`measureTrainSteps: ${name} must be an integer >= ${min}, received ${value}`);
  }
}

/**
 * Runs `warmup + steps` training steps of a freshly initialised network on a fixed batch of uniform random images
 * [batchSize, height, width, channels] with uniformly random labels, drawing new gates for every step from the survival
 * schedule with a seeded generator, and times each of the last `steps` steps.
 *
 * @returns The wall-clock time and the number of blocks that ran of each timed step, and the backend used.
 * @throws Error when an option is out of range or the backend cannot start.
 */
export async function measureTrainSteps(options: MeasureOptions): Promise<MeasureResult> {
  const {
    arch = 'resnet20',
    depth,
    input = INPUT,
    survivalRule,
    survivalProb,
    batchSize,
    warmup,
    steps,
    backend = 'auto',
    workers = 1,
    threads = 0,
    seed = 1,
    profileSteps = 0,
    precision = 'fp32',
  } = options;
  checkCount('batchSize', batchSize, 1);
  checkCount('warmup', warmup, 0);
  checkCount('steps', steps, 1);
  checkCount('workers', workers, 0);
  checkCount('threads', threads, 0);
  checkCount('profileSteps', profileSteps, 0);
  if (!isTrainBackend(backend)) {
    throw new Error(
      `measureTrainSteps: backend must be one of ${TRAIN_BACKENDS.join(', ')}, received ${JSON.stringify(backend)}`,
    );
  }
  const topology = topologyOf(resolveArchitecture({ arch, overrides: { depth } }, input, NUM_CLASSES));
  const probs = survivalProbs(survivalRule, residualLayers(topology).length, survivalProb);
  const choice = await selectBackend(backend, { ...(threads > 0 ? { threads } : {}), precision });

  const replicas = workerCount(workers, choice);
  const init = { topology, params: initialTensors(topology, createRng(deriveSeed(seed, 'init'))), momentum: new Map() };
  const perWorker = threads > 0 ? threads : Math.max(1, Math.floor(availableParallelism() / replicas));
  const engine =
    replicas > 1
      ? await WorkerEngine.start(init, replicas, choice.option, perWorker, choice.precision)
      : new LocalEngine(init);
  const gateRng = createRng(deriveSeed(seed, 'gates'));
  const dataRng = createRng(deriveSeed(seed, 'data'));
  const { height, width, channels } = input;
  const pixels = Float32Array.from({ length: batchSize * height * width * channels }, () => dataRng.next() * 2 - 1);
  const labels = Int32Array.from({ length: batchSize }, () => Math.floor(dataRng.next() * NUM_CLASSES));
  const msPerStep: number[] = [];
  const blocksRun: number[] = [];
  const step = () =>
    engine.step({ pixels, labels, count: batchSize }, { gates: drawGates(probs, gateRng), ...HYPER_PARAMETERS });
  let kernels: KernelShare[] = [];
  try {
    for (let s = 0; s < warmup + steps; s++) {
      const gates = drawGates(probs, gateRng);
      const start = performance.now();
      await engine.step({ pixels, labels, count: batchSize }, { gates, ...HYPER_PARAMETERS });
      const elapsed = performance.now() - start;
      if (s >= warmup) {
        msPerStep.push(elapsed);
        blocksRun.push(gates.filter(Boolean).length);
      }
    }
    if (profileSteps > 0 && replicas === 1) kernels = await profileKernels(step, profileSteps);
  } finally {
    await engine.dispose();
  }
  return { msPerStep, blocksRun, backend: choice.name, precision: choice.precision, workers: replicas, kernels };
}

const CUSTOM_GRAD_FORWARD = 'forward';

/** Runs `step` `count` times under `tf.profile` and sums each kernel's time and calls. */
async function profileKernels(step: () => Promise<unknown>, count: number): Promise<KernelShare[]> {
  const byName = new Map<string, { ms: number; calls: number }>();
  let wallMs = 0;
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    const info = await tf.profile(async () => {
      await step();
    });
    wallMs += performance.now() - start;
    for (const k of info.kernels) {
      // tf.customGrad records its forward function as a kernel of this name around the kernels it runs.
      if (k.name === CUSTOM_GRAD_FORWARD) continue;
      const entry = byName.get(k.name) ?? { ms: 0, calls: 0 };
      entry.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
      entry.calls += 1;
      byName.set(k.name, entry);
    }
  }
  return [...byName]
    .map(([name, { ms, calls }]) => ({ name, msPerStep: ms / count, callsPerStep: calls / count, share: ms / wallMs }))
    .sort((a, b) => b.msPerStep - a.msPerStep);
}
