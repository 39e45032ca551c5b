// The training run: opens the run (resume policy), sets up data, model and engine, then runs the epoch loop.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import {
  type Architecture,
  type Checkpoint,
  configArchitecture,
  continuedEpochPlan,
  createRng,
  DepthfoldInputError,
  deriveSeed,
  epochPlanOf,
  residualLayers,
  singleEpochPlan,
  survivalProbs,
  type Topology,
  topologyOf,
  type MetricsLine,
  type TrainConfig,
  type TrainConfigInput,
} from '@depthfold/core';
import { removeStaleRunTempFiles, writeFileAtomic, writeMetrics } from '@depthfold/core/node';
import { selectBackend, type BackendChoice } from './backend.js';
import { planRunData } from './data/run-data.js';
import { runEpochs } from './epoch-loop.js';
import { initialTensors } from './network.js';
import { givenNormalization, runNormalization } from './normalization.js';
import { openRun } from './open-run.js';
import type { TrainEngine } from './parallel/engine.js';
import { LocalEngine } from './parallel/local-engine.js';
import { WorkerEngine } from './parallel/worker-engine.js';
import { resumedMetrics } from './resumed-metrics.js';
import { commitWrite, type TrainHooks } from './train-hooks.js';

/** What a finished run leaves. */
export interface TrainResult {
  runDir: string;
  checkpointPath: string;
  metrics: MetricsLine[];
  backend: BackendChoice;
  config: TrainConfig;
}

/**
 * Worker threads for a run: as asked, or for 0 one per core on wasm (single-threaded in Node) and one elsewhere
 * (tfjs-node threads by itself; the cpu backend is the slow reference path).
 */
export function workerCount(requested: number, backend: BackendChoice): number {
  if (requested > 0) return requested;
  return backend.name === 'wasm' ? availableParallelism() : 1;
}

/** Starts the engine a run trains on: in this thread for one worker, else a pool of worker threads. */
async function startEngine(
  init: Parameters<typeof WorkerEngine.start>[0],
  workers: number,
  backend: BackendChoice,
  threads: number,
): Promise<TrainEngine> {
  if (workers <= 1) return new LocalEngine(init);
  // Workers share the cores: each one's onednn gets its share unless --threads says otherwise.
  return WorkerEngine.start(
    init,
    workers,
    backend.option,
    threads > 0 ? threads : Math.max(1, Math.floor(availableParallelism() / workers)),
    backend.precision,
  );
}

/**
 * Throws unless the network a resumed run's settings describe is the one its checkpoint holds (the same layers and
 * tensors; a checkpoint of the first format records the same network in other words).
 */
function checkResumedArchitecture(resumed: Checkpoint, topology: Topology): void {
  const recorded: Architecture = resumed.info.architecture;
  if (JSON.stringify(topologyOf(recorded).layers) !== JSON.stringify(topology.layers)) {
    throw new DepthfoldInputError(
      'architecture',
      `the checkpoint's ${topologyOf(recorded).title} on ${recorded.input.height}x${recorded.input.width}`,
      `${topology.title} on ${topology.input.height}x${topology.input.width}`,
      'train --resume',
    );
  }
}

/**
 * Throws unless a resumed run computes in the precision its checkpoint recorded: `--precision auto` resolves anew on
 * each machine, and a run must not change its arithmetic halfway without saying so.
 */
function checkResumedPrecision(resumed: Checkpoint, precision: string): void {
  const recorded = resumed.info.metrics.precision ?? 'fp32';
  if (recorded !== precision) {
    throw new DepthfoldInputError(
      'precision',
      `the run's recorded ${recorded} (its checkpoint's epochs ran in ${recorded}; start a new --name to change it)`,
      precision,
      'train --resume',
    );
  }
}

/** Throws unless a resumed run's labels are its checkpoint's (a folder's recorded classes, in order). */
function checkResumedLabels(resumed: Checkpoint, labels: readonly string[]): void {
  if (JSON.stringify(resumed.info.labels) !== JSON.stringify(labels)) {
    throw new DepthfoldInputError(
      'labels',
      `the checkpoint's ${JSON.stringify(resumed.info.labels)}`,
      labels,
      'train --resume',
    );
  }
}

/** Trains a network as configured, writing config, metrics and checkpoints to the run directory. */
export async function train(input: TrainConfigInput, hooks: TrainHooks = {}): Promise<TrainResult> {
  const { config, runDir, paths, resumed } = await openRun(input);
  // A kill between a temp file's write and its rename leaves the temp file; they pile up unless the next session of
  // the run removes them (only the run's own, of writers that no longer run).
  await removeStaleRunTempFiles(runDir);
  const backend = await selectBackend(config.backend, {
    ...(config.threads > 0 ? { threads: config.threads } : {}),
    precision: config.precision,
  });
  if (resumed) checkResumedPrecision(resumed, backend.precision);
  const planned = await planRunData(config, paths, resumed !== undefined);
  const architecture = configArchitecture(config, planned.input, planned.numClasses);
  const topology = topologyOf(architecture);
  if (resumed) checkResumedArchitecture(resumed, topology);
  const given = givenNormalization(config, planned.input.channels);
  // A folder's images are decoded here, once, into the cache (a built-in dataset at another size is resized once).
  const data = await planned.load({ ...(hooks.onDecode ? { onDecodeProgress: hooks.onDecode } : {}) });
  if (data.decode) hooks.onData?.(data.decode);
  if (resumed) checkResumedLabels(resumed, data.labels);
  const probs = survivalProbs(config.survivalRule, residualLayers(topology).length, config.survivalProb);
  const normalization = resumed?.info.normalization ?? (await runNormalization(given, data.channelStats));

  const startEpoch = resumed?.info.epoch ?? 0;
  const epochPlan = resumed
    ? continuedEpochPlan(epochPlanOf(resumed.info), startEpoch, config.epochs)
    : singleEpochPlan(config.epochs);
  const metrics = resumed ? await resumedMetrics(runDir, resumed.info, paths.checkpoint) : [];
  await commitWrite(hooks, 'config', startEpoch, (options) =>
    writeFileAtomic(paths.config, `${JSON.stringify(config, null, 2)}\n`, options),
  );
  // Resuming rewrites the metrics to match the checkpoint at once: a line the kill lost is back, later ones are gone.
  if (resumed || existsSync(paths.metrics))
    await commitWrite(hooks, 'metrics', startEpoch, (options) => writeMetrics(runDir, metrics, options));
  const workers = workerCount(config.workers, backend);
  const engine = await startEngine(
    {
      topology,
      params: resumed?.params ?? initialTensors(topology, createRng(deriveSeed(config.seed, 'init'))),
      momentum: resumed?.momentum ?? new Map(),
    },
    workers,
    backend,
    config.threads,
  );
  try {
    hooks.onStart?.({ backend, workers, runDir, resumedFromEpoch: startEpoch, config, topology });
    await runEpochs({
      engine,
      config,
      data,
      architecture,
      probs,
      normalization,
      backend,
      workers,
      runDir,
      paths,
      hooks,
      startEpoch,
      startStep: resumed?.info.step ?? 0,
      epochPlan,
      metrics,
    });
  } finally {
    await engine.dispose();
  }
  return { runDir, checkpointPath: paths.checkpoint, metrics, backend, config };
}
