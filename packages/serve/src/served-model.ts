// A model being served: its file read once at load (never from a request), checked as @depthfold/infer checks a
// model it loads (valid ONNX, its digest, metadata against graph), its sessions on worker threads and the batcher in
// front of them.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { DepthfoldInputError, type ModelMetadata } from '@depthfold/core';
import {
  type ConcreteDevice,
  DEVICE_TABLE,
  type Device,
  type DeviceFallback,
  type ExecutionProvider,
  load,
} from '@depthfold/infer';
import { readModelMetadata } from '@depthfold/onnx';
import { DynamicBatcher, type BatcherOptions } from './batcher.js';
import { DEFAULT_MAX_IMAGE_PIXELS, MODEL_VERSION, modelSpecOf, type ModelSpec } from './model-spec.js';
import { SessionPool } from './session-pool.js';

/** A device the server runs on: one of @depthfold/infer's Node devices. */
export type ServeDevice = Exclude<Device, 'wasm'>;

/** Devices the server runs on: `auto` and the Node platform's of @depthfold/infer's table (cuda, webgpu, cpu). */
export const SERVE_DEVICES = Object.freeze(['auto', ...DEVICE_TABLE.node.auto] as [ServeDevice, ...ServeDevice[]]);

/** How a model is loaded and batched. */
export interface ModelOptions {
  /** Where the sessions run; default `cpu`. */
  device?: ServeDevice;
  /** Gather concurrent requests into one ORT call; default true. */
  batching?: boolean;
  /** Rows per ORT call and per request, at most; default 64. */
  maxBatch?: number;
  /** How long a request may wait for others to join its batch; default 2 ms. */
  batchDelayMs?: number;
  /** Requests waiting for a call, at most, before 503; default 256. */
  maxQueue?: number;
  /** ORT calls at once, each on its own session and thread; default 1. */
  maxInflight?: number;
  /** ORT intra-op threads per session; default 0 (ORT's choice). */
  threads?: number;
  /** Called when a session's thread dies (the model then stops being ready). */
  onFailure?: (reason: string) => void;
  /** The name it is served under; default the file's base name without `.onnx`. */
  name?: string;
  /** The version it is served as; default `1`. */
  version?: string;
  /**
   * Refuse a file whose graph and weights do not match the digest stored at export, or that stores none, as
   * @depthfold/infer's `load` does; default true.
   */
  verifyIntegrity?: boolean;
  /**
   * The largest width x height of an image in a BYTES input; larger ones are refused from their header, before
   * decoding (a decompression bomb). Default 2^24 (4096 x 4096).
   */
  maxImagePixels?: number;
}

/** The defaults of {@link ModelOptions}, shared with the CLI's help. */
export const MODEL_DEFAULTS = Object.freeze({
  device: 'cpu' as ServeDevice,
  batching: true,
  maxBatch: 64,
  batchDelayMs: 2,
  maxQueue: 256,
  maxInflight: 1,
  threads: 0,
  verifyIntegrity: true,
  maxImagePixels: DEFAULT_MAX_IMAGE_PIXELS,
});

/** The options a model was loaded with, defaults filled in. */
export type ResolvedModelOptions = Readonly<
  Required<Omit<ModelOptions, 'onFailure' | 'name' | 'version'>> & { name: string; version: string }
>;

/** A loaded model, ready to take batches. */
export interface ServedModel {
  readonly spec: ModelSpec;
  readonly path: string;
  readonly metadata: ModelMetadata;
  /** The model file's size in bytes. */
  readonly fileBytes: number;
  /** How it was loaded (batching, sessions, device asked for). */
  readonly options: ResolvedModelOptions;
  /** The device the sessions run on, its provider, and the devices tried before it with why each failed. */
  readonly device: ConcreteDevice;
  readonly provider: ExecutionProvider;
  readonly fallbacks: readonly DeviceFallback[];
  readonly batcher: DynamicBatcher;
  /** True while every session is alive. */
  readonly ready: boolean;
  /** Runs `rows` normalised NCHW rows (through the batcher) and resolves with their logits. */
  infer(input: Float32Array, rows: number): Promise<Float32Array>;
  /** Finishes queued and running work, then releases the sessions. */
  close(): Promise<void>;
}

const positiveInt = (value: number, field: string): number => {
  if (!Number.isInteger(value) || value < 1)
    throw new DepthfoldInputError(field, 'an integer >= 1', value, 'model options');
  return value;
};

/**
 * Loads `path` (an .onnx file written by `pnpm export`) for serving under its base name.
 * @throws DepthfoldInputError for a bad option, an unreadable file or a model without depthfold metadata;
 * InferDeviceError (from @depthfold/infer) when the device cannot start.
 */
export async function loadServedModel(path: string, options: ModelOptions = {}): Promise<ServedModel> {
  const o = { ...MODEL_DEFAULTS, ...options };
  positiveInt(o.maxBatch, 'maxBatch');
  positiveInt(o.maxQueue, 'maxQueue');
  positiveInt(o.maxInflight, 'maxInflight');
  positiveInt(o.maxImagePixels, 'maxImagePixels');
  if (!(o.batchDelayMs >= 0 && Number.isFinite(o.batchDelayMs)))
    throw new DepthfoldInputError('batchDelayMs', 'a number of milliseconds >= 0', o.batchDelayMs, 'model options');
  if (!Number.isInteger(o.threads) || o.threads < 0)
    throw new DepthfoldInputError('threads', 'an integer >= 0', o.threads, 'model options');
  if (!(SERVE_DEVICES as readonly unknown[]).includes(o.device))
    throw new DepthfoldInputError('device', SERVE_DEVICES.join(', '), o.device, 'model options');
  if (typeof o.verifyIntegrity !== 'boolean')
    throw new DepthfoldInputError('verifyIntegrity', 'true or false', o.verifyIntegrity, 'model options');

  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new DepthfoldInputError(
      'model',
      'a readable .onnx file',
      error instanceof Error ? error.message : String(error),
    );
  }
  const metadata = readModelMetadata(bytes, path);
  const name = options.name ?? basename(path).replace(/\.onnx$/i, '');
  const version = options.version ?? MODEL_VERSION;
  const spec = modelSpecOf(name, metadata, o.maxBatch, version, o.maxImagePixels);
  if (o.verifyIntegrity) await checkAsInferLoads(bytes, path);
  const { channels, height, width } = spec.input;
  const pool = await SessionPool.start(bytes, o.device, {
    instances: o.maxInflight,
    threads: o.threads,
    inputName: spec.inputName,
    outputName: spec.outputName,
    inputDims: [channels, height, width],
    ...(o.onFailure ? { onFailure: o.onFailure } : {}),
  });
  const batcherOptions: BatcherOptions = {
    batching: o.batching,
    maxBatch: o.maxBatch,
    delayMs: o.batchDelayMs,
    maxQueue: o.maxQueue,
    maxInflight: o.maxInflight,
    inputSize: channels * height * width,
    outputSize: spec.labels.length,
  };
  const batcher = new DynamicBatcher((input, rows) => pool.run(input, rows), batcherOptions);
  let closed = false;
  return {
    spec,
    path,
    metadata,
    fileBytes: bytes.length,
    options: Object.freeze({
      device: o.device,
      batching: o.batching,
      maxBatch: o.maxBatch,
      batchDelayMs: o.batchDelayMs,
      maxQueue: o.maxQueue,
      maxInflight: o.maxInflight,
      threads: o.threads,
      verifyIntegrity: o.verifyIntegrity,
      maxImagePixels: o.maxImagePixels,
      name,
      version,
    }),
    device: pool.device,
    provider: pool.provider,
    fallbacks: pool.fallbacks,
    batcher,
    get ready() {
      return !closed && pool.healthy;
    },
    infer: (input, rows) => batcher.submit(input, rows),
    async close() {
      if (closed) return;
      closed = true;
      await batcher.idle();
      await pool.close();
    },
  };
}

/**
 * Checks the file as @depthfold/infer's `load` does (valid ONNX, the stored digest, metadata against the graph), on a
 * CPU session that is released at once: one rule for what a sound model is, whoever loads it.
 * @throws infer's InferModelError, InferIntegrityError or DepthfoldInputError naming what is wrong.
 */
async function checkAsInferLoads(bytes: Uint8Array, path: string): Promise<void> {
  // The bytes already read are handed over (infer would read the file again); its messages call them
  // "(model bytes)", which becomes the path here.
  const classifier = await load(bytes, { device: 'cpu' }).catch((error: unknown) => {
    if (error instanceof Error) error.message = error.message.replaceAll('(model bytes)', path);
    throw error;
  });
  await classifier.dispose();
}
