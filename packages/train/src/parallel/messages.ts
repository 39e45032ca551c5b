// The messages between the coordinating thread and the training workers.
import type { TrainBackend, TrainPrecision } from '@depthfold/core';
import type { BackendChoice } from '../backend.js';
import type { CollectiveMemory } from './collective.js';
import type { Batch, EngineInit, StepSettings } from './engine.js';

/** What a worker is started with (its `workerData`). */
export interface WorkerSetup {
  rank: number;
  backend: Exclude<TrainBackend, 'auto'>;
  /** onednn's OpenMP threads in this worker. */
  threads: number;
  /** The precision the coordinator resolved (every worker runs the same). */
  precision: Exclude<TrainPrecision, 'auto'>;
  memory: CollectiveMemory;
  init: EngineInit;
}

/** A request to a worker; `id` pairs it with its reply. */
export type WorkerRequest =
  | { id: number; kind: 'step'; shard: Batch; settings: StepSettings; globalBatch: number }
  | { id: number; kind: 'evaluate'; shard: Batch; survivalProbs: readonly number[] }
  | { id: number; kind: 'state' };

/** A worker's reply: ready once started, then one per request. */
export type WorkerReply =
  | { id: -1; kind: 'ready'; backend: BackendChoice }
  | { id: number; kind: 'result'; value: unknown }
  | { id: number; kind: 'error'; message: string };
