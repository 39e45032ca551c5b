#!/usr/bin/env node
// `pnpm serve`, and the package's `depthfold-serve` bin: a repository of depthfold models (a folder in Triton's layout
// or of .onnx files, or one --model file) over the KServe V2 REST protocol, until SIGTERM or SIGINT, which stop accepting, let the requests in flight finish, and exit 0. The process
// handles the signals itself, so it must be the one signalled: run it as `node .../serve.js` (or this file, which
// is executable) with nothing in between that could swallow them; `pnpm serve` `exec`s it for that reason.
import { DepthfoldInputError, parseWith } from '@depthfold/core';
import { SERVER_DEFAULTS, startServer } from '../http-server.js';
import { CONTROL_MODES, ModelRepository } from '../model-repository.js';
import { MODEL_DEFAULTS, SERVE_DEVICES, type ServedModel } from '../served-model.js';
import { helpText, parseCommandLine, processLogger as log, runCommand } from '@depthfold/core/node';
import { z } from 'zod';

const serveOptionsSchema = z
  .object({
    model: z
      .string()
      .min(1)
      .optional()
      .describe(
        'an .onnx model to serve (from pnpm export), as a repository of one; its URL name is the file name without .onnx',
      ),
    modelRepository: z
      .string()
      .min(1)
      .optional()
      .describe(
        "a folder of models: Triton's layout (<name>/config.pbtxt, <name>/<version>/model.onnx, as pnpm export --triton writes it) and/or <name>.onnx files",
      ),
    modelControlMode: z
      .enum(CONTROL_MODES, { error: `one of ${CONTROL_MODES.join(', ')}` })
      .default('none')
      .describe(
        'none: load every model at start; explicit: POST /v2/repository/models/<name>/load and /unload decide; poll: follow the folder',
      ),
    loadModel: z
      .string()
      .optional()
      .describe('with --model-control-mode explicit, the models to load at start, comma-separated (* for all)'),
    repositoryPollSecs: z
      .number()
      .int()
      .min(1)
      .default(15)
      .describe('with --model-control-mode poll, how often the folder is read again, in seconds'),
    maxLoadedModels: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe('model versions loaded at once, at most; a load beyond is refused (507) and reported in the index'),
    maxModelBytes: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe('bytes of loaded models (file size x sessions, summed), at most; a load beyond is refused (507)'),
    verifyIntegrity: z
      .boolean()
      .default(MODEL_DEFAULTS.verifyIntegrity)
      .describe(
        'refuse a model whose graph and weights do not match the digest stored at export (--no-verify-integrity to serve it anyway)',
      ),
    port: z.number().int().min(0).max(65535).default(SERVER_DEFAULTS.port).describe('TCP port; 0 picks a free one'),
    grpcPort: z
      .number()
      .int()
      .min(0)
      .max(65535)
      .optional()
      .describe(
        'also serve the KServe V2 gRPC service (inference.GRPCInferenceService) on this port; 0 picks a free one',
      ),
    host: z
      .string()
      .min(1)
      .default(SERVER_DEFAULTS.host)
      .describe('interface to bind; 0.0.0.0 exposes the server to the network'),
    ep: z
      .enum(SERVE_DEVICES, { error: `one of ${SERVE_DEVICES.join(', ')}` })
      .default(MODEL_DEFAULTS.device)
      .describe('execution provider; auto tries cuda, webgpu, then cpu'),
    batching: z
      .boolean()
      .default(MODEL_DEFAULTS.batching)
      .describe('gather concurrent requests into one ORT call (--no-batching: one call per request)'),
    batchDelayMs: z
      .number()
      .min(0)
      .default(MODEL_DEFAULTS.batchDelayMs)
      .describe('longest wait of a request for others to join its batch, in ms'),
    maxBatch: z
      .number()
      .int()
      .min(1)
      .default(MODEL_DEFAULTS.maxBatch)
      .describe('rows per ORT call, and per request, at most'),
    maxQueue: z
      .number()
      .int()
      .min(1)
      .default(MODEL_DEFAULTS.maxQueue)
      .describe('requests waiting for an ORT call, at most; more are answered 503'),
    maxInflight: z
      .number()
      .int()
      .min(1)
      .default(MODEL_DEFAULTS.maxInflight)
      .describe('ORT calls at once, each on its own session and thread'),
    threads: z
      .number()
      .int()
      .min(0)
      .default(MODEL_DEFAULTS.threads)
      .describe('ORT intra-op threads per session; 0 lets ORT choose'),
    maxImagePixels: z
      .number()
      .int()
      .min(1)
      .default(MODEL_DEFAULTS.maxImagePixels)
      .describe(
        'largest width x height of an image in a BYTES input; a larger one is refused (400) from its header, before decoding (a decompression bomb)',
      ),
    imageDecodeThreads: z
      .number()
      .int()
      .min(1)
      .default(SERVER_DEFAULTS.imageDecodeThreads)
      .describe('threads decoding the images of BYTES inputs, one image each at a time (the cores, at most 4)'),
    maxImageQueue: z
      .number()
      .int()
      .min(1)
      .default(SERVER_DEFAULTS.maxImageQueue)
      .describe('images waiting for a decode thread, at most; a request whose images would pass it is answered 503'),
    maxBodyBytes: z
      .number()
      .int()
      .min(1)
      .default(SERVER_DEFAULTS.maxBodyBytes)
      .describe(
        'largest request body in bytes, before and after gzip/deflate decompression; larger ones are answered 413',
      ),
    maxDiscardBytes: z
      .number()
      .int()
      .min(1)
      .default(SERVER_DEFAULTS.maxDiscardBytes)
      .describe(
        'of a refused request (413, 404...), how many body bytes are read and dropped so that every client sees the reply; a larger body is answered and cut',
      ),
    headersTimeoutMs: z
      .number()
      .int()
      .min(1)
      .default(SERVER_DEFAULTS.headersTimeoutMs)
      .describe('a client that takes longer to send its request headers is cut (408)'),
    bodyTimeoutMs: z
      .number()
      .int()
      .min(1)
      .default(SERVER_DEFAULTS.bodyTimeoutMs)
      .describe('a client that takes longer to send a request body, after its headers, gets 408 and is cut'),
    keepAliveTimeoutMs: z
      .number()
      .int()
      .min(1)
      .default(SERVER_DEFAULTS.keepAliveTimeoutMs)
      .describe('an idle kept-alive connection is closed after this long'),
    drainTimeoutMs: z
      .number()
      .int()
      .min(0)
      .default(10_000)
      .describe('on SIGTERM/SIGINT, how long requests in flight may take before they are dropped'),
  })
  .strict();

const SUMMARY =
  'Serves depthfold ONNX models over the KServe V2 REST protocol (as NVIDIA Triton speaks it) with onnxruntime-node\n' +
  'and dynamic batching: GET /v2, /v2/health/{live,ready}, /v2/models/<name>[/versions/<v>][/ready|/config|/stats],\n' +
  'GET /v2/models/stats, POST /v2/models/<name>/infer (JSON or binary tensor data, gzip or deflate; FP32 input,\n' +
  'UINT8 pixels or BYTES encoded images), POST /v2/repository/index and /v2/repository/models/<name>/{load,unload};\n' +
  'with --grpc-port, the gRPC service inference.GRPCInferenceService as well.';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

// How soon a repeat of the stopping signal counts as the same signal delivered twice (see stop below).
const DUPLICATE_SIGNAL_MS = 1000;

async function main(): Promise<void> {
  const raw = parseCommandLine(process.argv.slice(2), serveOptionsSchema);
  if (raw === 'help') {
    log.info(helpText('pnpm serve', SUMMARY, serveOptionsSchema));
    return;
  }
  const options = parseWith(serveOptionsSchema, raw, 'serve options');
  if (options.model === undefined && options.modelRepository === undefined)
    throw new DepthfoldInputError(
      'model',
      'an .onnx file (--model) or a repository folder (--model-repository)',
      undefined,
      'serve options',
    );
  // Until the server listens, a stop has nothing to finish: no request can be in flight. Loading a repository can take
  // a while, and a process that a supervisor stops meanwhile must still exit 0, not die of the signal.
  const stopDuringStart = (signal: NodeJS.Signals): void => {
    log.info(`serve: ${signal} during start-up, before the server listened; exiting`);
    process.exit(0);
  };
  process.on('SIGTERM', stopDuringStart);
  process.on('SIGINT', stopDuringStart);
  const files = options.model === undefined ? [] : [options.model];
  const fileNames = files.map((f) => f.replace(/^.*[\\/]/, '').replace(/\.onnx$/i, ''));
  const named = (options.loadModel ?? '')
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n !== '');
  const repository = await ModelRepository.open({
    ...(options.modelRepository === undefined ? {} : { root: options.modelRepository }),
    files,
    controlMode: options.modelControlMode,
    // A --model file was named on the command line: it is loaded at start in every mode.
    loadModels: [...named, ...fileNames],
    pollIntervalMs: options.repositoryPollSecs * 1000,
    ...(options.maxLoadedModels === undefined ? {} : { maxLoadedModels: options.maxLoadedModels }),
    ...(options.maxModelBytes === undefined ? {} : { maxModelBytes: options.maxModelBytes }),
    model: {
      device: options.ep,
      batching: options.batching,
      batchDelayMs: options.batchDelayMs,
      maxBatch: options.maxBatch,
      maxQueue: options.maxQueue,
      maxInflight: options.maxInflight,
      threads: options.threads,
      verifyIntegrity: options.verifyIntegrity,
      maxImagePixels: options.maxImagePixels,
    },
    log: (message) => log.info(`serve: ${message}`),
  });
  const index = await repository.index();
  // A model named alone with --model is the whole server: if it cannot load, there is nothing to serve.
  if (options.modelRepository === undefined && repository.loaded.length === 0) {
    await repository.close();
    throw new Error(index.find((e) => e.reason !== '')?.reason ?? 'the model did not load');
  }
  for (const model of repository.loaded)
    for (const f of model.fallbacks) log.warn(`serve: provider ${f.provider} did not start: ${f.reason}`);
  const server = await startServer(repository, {
    host: options.host,
    port: options.port,
    maxBodyBytes: options.maxBodyBytes,
    maxDiscardBytes: options.maxDiscardBytes,
    headersTimeoutMs: options.headersTimeoutMs,
    bodyTimeoutMs: options.bodyTimeoutMs,
    keepAliveTimeoutMs: options.keepAliveTimeoutMs,
    imageDecodeThreads: options.imageDecodeThreads,
    maxImageQueue: options.maxImageQueue,
    ...(options.grpcPort === undefined ? {} : { grpcPort: options.grpcPort }),
  });
  const batching = options.batching
    ? `dynamic batching up to ${options.maxBatch} rows, ${options.batchDelayMs} ms delay`
    : 'no batching';
  const usage = repository.usage;
  const limits = [
    options.maxLoadedModels === undefined ? '' : `at most ${options.maxLoadedModels} model versions`,
    options.maxModelBytes === undefined ? '' : `at most ${options.maxModelBytes} bytes`,
  ].filter((l) => l !== '');
  log.info(
    `serve: ${usage.models} model version(s) loaded, ${usage.bytes} bytes (file size x sessions)${limits.length > 0 ? ` of ${limits.join(' and ')}` : ''}; model control ${options.modelControlMode}; ` +
      `by default ${batching}, ${options.maxInflight} ORT call(s) in flight, queue ${options.maxQueue}, on ${repository.loaded[0]?.device ?? options.ep}`,
  );
  for (const entry of index.filter((e) => e.state !== 'READY'))
    log.warn(`serve: ${entry.name}${entry.version ? ` version ${entry.version}` : ''} not serving: ${entry.reason}`);
  if (!LOOPBACK.has(options.host))
    log.warn(`serve: listening on ${options.host}, reachable from the network; the server has no authentication`);
  if (server.grpcPort !== undefined)
    log.info(`serve: gRPC inference.GRPCInferenceService on ${options.host}:${server.grpcPort}`);
  const first = repository.loadedNames[0] ?? '<name>';
  log.info(`serve: listening on ${server.url} (POST ${server.url}/v2/models/${first}/infer); pid ${process.pid}`);

  let stopping: { signal: NodeJS.Signals; at: number } | undefined;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      // One Ctrl-C under `pnpm serve` arrives twice: from the terminal to the process group, and forwarded by
      // pnpm. A repeat of the same signal within a second is that echo, not a second request to hurry.
      if (signal === stopping.signal && performance.now() - stopping.at < DUPLICATE_SIGNAL_MS) return;
      log.warn(`serve: ${signal} again; exiting without waiting`);
      process.exit(1);
    }
    stopping = { signal, at: performance.now() };
    log.info(`serve: ${signal}: no new connections; finishing ${server.inflight} request(s) in flight`);
    // The versions serving now, kept for their counters: the close releases them.
    const served: ServedModel[] = repository.loaded;
    server.close({ timeoutMs: options.drainTimeoutMs }).then(
      ({ clean }) => {
        for (const model of served)
          log.info(`serve: ${model.spec.name} version ${model.spec.version}: ${summaryOf(model)}`);
        if (!clean) log.warn(`serve: requests still running after ${options.drainTimeoutMs} ms were dropped`);
        process.exitCode = clean ? 0 : 1;
      },
      (error: unknown) => {
        log.warn(`serve: shutdown failed: ${error instanceof Error ? error.message : String(error)}`);
        process.exitCode = 1;
      },
    );
  };
  process.off('SIGTERM', stopDuringStart);
  process.off('SIGINT', stopDuringStart);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

/** What a version's batcher did, for the log at exit. */
function summaryOf(model: ServedModel): string {
  const s = model.batcher.stats;
  const mean = s.batches > 0 ? (s.rows / s.batches).toFixed(1) : '0';
  return (
    `served ${s.requests} request(s) in ${s.batches} ORT call(s) (mean ${mean} rows, largest ${s.largestBatch}; ` +
    `per call: mean ${s.callMs.mean.toFixed(1)} ms, p50 ${s.callMs.p50.toFixed(1)} ms, p99 ${s.callMs.p99.toFixed(1)} ms, max ${s.callMs.max.toFixed(1)} ms); ${s.refused} refused (queue full); ` +
    `queued + computed per request: p50 ${s.latencyMs.p50.toFixed(1)} ms, p99 ${s.latencyMs.p99.toFixed(1)} ms, max ${s.latencyMs.max.toFixed(1)} ms`
  );
}

runCommand('serve', main);
