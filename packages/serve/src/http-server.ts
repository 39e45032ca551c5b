// The HTTP side of the server (node:http): routing, request bodies bounded in size and time, the protocol's JSON
// and binary-tensor-data replies and errors, statistics and metrics, the gRPC service beside it when asked for,
// and a graceful close that stops accepting, answers requests on kept-alive connections with 503, lets every
// request in flight finish, then frees the model.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Server as NetServer, type AddressInfo } from 'node:net';
import { DepthfoldInputError } from '@depthfold/core';
import { HttpError, outcomeOf, replyOf } from './errors.js';
import { HEADER_LENGTH_HEADER, splitBinaryBody } from './binary-data.js';
import { startGrpcService, type GrpcService } from './grpc-server.js';
import { assertFiniteLogits, decodeInferRequest, encodeInferReply } from './infer-request.js';
import { parseJsonBody } from './json-body.js';
import { modelMetadataResponse } from './model-spec.js';
import { EXTENSIONS, type ServerMetadata } from './protocol.js';
import { matchRoute } from './routes.js';
import type { ServedModel } from './served-model.js';
import { ServerStatistics } from './statistics.js';

/** Where and how the server listens. */
export interface ServerOptions {
  /** Interface to bind; default 127.0.0.1 (loopback only). */
  host?: string;
  /** TCP port; 0 picks a free one; default 8000. */
  port?: number;
  /** Largest request body accepted, in bytes; larger ones get 413. Default 8 MiB. */
  maxBodyBytes?: number;
  /** How long a client may take to send a request's headers before its connection is cut (408); default 10 s. */
  headersTimeoutMs?: number;
  /** How long a client may take to send a request's body, from the end of its headers, before 408 and a cut; default 10 s. */
  bodyTimeoutMs?: number;
  /** How long an idle kept-alive connection stays open for the next request; default 5 s. */
  keepAliveTimeoutMs?: number;
  /** Also serve the KServe V2 gRPC service on this port (0 picks a free one) of `host`; default: no gRPC. */
  grpcPort?: number;
}

/** The defaults of {@link ServerOptions}. */
export const SERVER_DEFAULTS = Object.freeze({
  host: '127.0.0.1',
  port: 8000,
  maxBodyBytes: 8 * 1024 * 1024,
  headersTimeoutMs: 10_000,
  bodyTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
});

/** How a graceful close ended. */
export interface CloseResult {
  /** True when every request in flight finished before the timeout. */
  clean: boolean;
  /** Requests in flight when the close began. */
  inflight: number;
}

/** A running server. */
export interface InferenceServer {
  /** `http://host:port`. */
  readonly url: string;
  readonly port: number;
  /** The gRPC service's port, when one was asked for. */
  readonly grpcPort: number | undefined;
  readonly model: ServedModel;
  /** Its statistics and metrics (`GET /v2/models/{name}/stats`, `GET /metrics`). */
  readonly statistics: ServerStatistics;
  /** Requests being handled now. */
  readonly inflight: number;
  /**
   * Stops accepting connections, answers requests that arrive on open connections with 503, waits for those in
   * flight (up to `timeoutMs`, default 10 s, then drops them), and releases the model.
   */
  close(options?: { timeoutMs?: number }): Promise<CloseResult>;
}

// The package's own version, for `GET /v2`; package.json sits one level above both src/ and dist/.
function packageVersion(): string {
  const json = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof json.version === 'string' ? json.version : '0.0.0';
}

/**
 * Serves `model` over the KServe V2 REST protocol.
 * @throws the listen error (e.g. EADDRINUSE).
 */
export async function startServer(model: ServedModel, options: ServerOptions = {}): Promise<InferenceServer> {
  const { host, port, maxBodyBytes, headersTimeoutMs, bodyTimeoutMs, keepAliveTimeoutMs } = {
    ...SERVER_DEFAULTS,
    ...options,
  };
  for (const [field, value] of Object.entries({ maxBodyBytes, headersTimeoutMs, bodyTimeoutMs, keepAliveTimeoutMs })) {
    if (!Number.isInteger(value) || value < 1)
      throw new DepthfoldInputError(field, 'an integer >= 1', value, 'server options');
  }
  const serverMetadata: ServerMetadata = { name: 'depthfold', version: packageVersion(), extensions: [...EXTENSIONS] };
  const spec = model.spec;
  const metadataReply = modelMetadataResponse(spec);
  const statistics = new ServerStatistics(spec, model.batcher);
  let draining = false;
  let active = 0;
  let wakeWhenIdle: (() => void) | undefined;

  const send = (
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Readonly<Record<string, string>> = {},
  ): void => {
    if (res.headersSent) return;
    const text = body === undefined ? '' : JSON.stringify(body);
    res.writeHead(status, {
      ...(text ? { 'Content-Type': 'application/json' } : {}),
      'Content-Length': Buffer.byteLength(text),
      // While closing, every reply ends its connection so that the close does not wait on idle keep-alives.
      ...(draining ? { Connection: 'close' } : {}),
      ...headers,
    });
    res.end(text);
  };

  // A binary reply: the JSON header, its length in Inference-Header-Content-Length, then each binary output's bytes.
  const sendBinary = (res: ServerResponse, response: unknown, binary: readonly Buffer[]): void => {
    const header = Buffer.from(JSON.stringify(response));
    const bytes = Buffer.concat([header, ...binary]);
    res.writeHead(200, {
      'Content-Type': 'application/octet-stream',
      'Content-Length': bytes.length,
      [HEADER_LENGTH_HEADER]: header.length,
      ...(draining ? { Connection: 'close' } : {}),
    });
    res.end(bytes);
  };

  const findModel = (name: string, version: string | undefined): void => {
    if (name !== spec.name)
      throw new HttpError(
        404,
        `model ${JSON.stringify(name)} not found (this server serves ${JSON.stringify(spec.name)})`,
      );
    if (version !== undefined && version !== spec.version) {
      throw new HttpError(
        404,
        `model ${JSON.stringify(name)} has no version ${JSON.stringify(version)} (versions: ${JSON.stringify(spec.version)})`,
      );
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0]!;
    const route = matchRoute(req.method ?? 'GET', path);
    // A request on a connection kept alive from before the close: answered, not reset, and told to go elsewhere
    // (send() adds `Connection: close`). Health keeps the protocol's answers: live, and not ready.
    if (
      draining &&
      route.kind !== 'server-live' &&
      route.kind !== 'server-ready' &&
      route.kind !== 'model-ready' &&
      route.kind !== 'metrics'
    ) {
      throw new HttpError(503, 'server is shutting down; retry on another instance');
    }
    switch (route.kind) {
      case 'server-metadata':
        return send(res, 200, serverMetadata);
      case 'server-live':
        return send(res, 200, undefined);
      // The protocol: health answers are the status alone, 200 for true and a 4xx for false.
      case 'server-ready':
        return send(res, !draining && model.ready ? 200 : 400, undefined);
      case 'model-ready':
        findModel(route.model, route.version);
        return send(res, !draining && model.ready ? 200 : 400, undefined);
      case 'model-metadata':
        findModel(route.model, route.version);
        return send(res, 200, metadataReply);
      case 'model-stats':
        findModel(route.model, route.version);
        return send(res, 200, statistics.modelStats());
      case 'metrics': {
        const text = await statistics.registry.metrics();
        res.writeHead(200, {
          'Content-Type': statistics.registry.contentType,
          'Content-Length': Buffer.byteLength(text),
        });
        return void res.end(text);
      }
      case 'model-infer': {
        const started = performance.now();
        try {
          await infer(req, res, route.model, route.version);
          statistics.outcome('http', 'success', performance.now() - started);
        } catch (error) {
          statistics.outcome('http', outcomeOf(error), performance.now() - started);
          throw error;
        }
        return;
      }
    }
  };

  // One inference request, JSON or binary, answered in kind.
  const infer = async (
    req: IncomingMessage,
    res: ServerResponse,
    name: string,
    version: string | undefined,
  ): Promise<void> => {
    findModel(name, version);
    if (!model.ready) throw new HttpError(503, `model ${JSON.stringify(spec.name)} is not ready`);
    const body = await readBody(req, maxBodyBytes, bodyTimeoutMs);
    // The binary tensor data extension: the JSON header, then the tensors' bytes.
    const headerLength = req.headers[HEADER_LENGTH_HEADER.toLowerCase()];
    const parts = headerLength === undefined ? undefined : splitBinaryBody(body, headerLength);
    const json = parseJsonBody(parts ? parts.header : body, parts ? 'inference header' : 'request body');
    const request = decodeInferRequest(json, spec, parts?.binary);
    const logits = await model.infer(request.input, request.rows);
    assertFiniteLogits(logits, spec.labels.length);
    const reply = encodeInferReply(spec, request, logits);
    if (reply.binary.length === 0) return send(res, 200, reply.response);
    return sendBinary(res, reply.response, reply.binary);
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    active++;
    res.once('close', () => {
      active--;
      if (active === 0) wakeWhenIdle?.();
    });
    handle(req, res).catch((error: unknown) => {
      const { status, message, headers } = replyOf(error);
      // A body left unread (413, or an error before reading it) would be taken for the next request on this
      // connection: end the connection after the reply, and read what is still coming so the client sees it.
      const unread = !req.complete;
      if (unread) req.resume();
      send(res, status, { error: message }, unread ? { ...headers, Connection: 'close' } : headers);
      // A client too slow to send its body is not waited for any longer once it has its 408.
      if (status === 408) res.once('finish', () => req.socket.destroy());
    });
  };
  const server: Server = createServer(
    {
      headersTimeout: headersTimeoutMs,
      // Node's own limit on the whole request, a backstop behind the body timeout that readBody enforces.
      requestTimeout: headersTimeoutMs + bodyTimeoutMs,
      keepAliveTimeout: keepAliveTimeoutMs,
      // Node checks the header and request timeouts on this period (default 30 s, so a slow client could hold a
      // connection for a minute); a second keeps the cut within a second of the limit.
      connectionsCheckingInterval: Math.min(1000, headersTimeoutMs),
    },
    onRequest,
  );
  // A client that asks before sending its body (`Expect: 100-continue`) is told 413 without sending it.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    if (!(Number(req.headers['content-length']) > maxBodyBytes)) res.writeContinue();
    onRequest(req, res);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  let grpc: GrpcService | undefined;
  if (options.grpcPort !== undefined) {
    try {
      grpc = await startGrpcService(model, {
        host,
        port: options.grpcPort,
        maxMessageBytes: maxBodyBytes,
        serverMetadata,
        statistics,
        draining: () => draining,
      });
    } catch (error) {
      server.close();
      throw error;
    }
  }
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  let closing: Promise<CloseResult> | undefined;
  const close = async (timeoutMs: number): Promise<CloseResult> => {
    draining = true;
    const inflight = active + (grpc?.inflight ?? 0);
    const grpcDone = grpc ? grpc.shutdown(timeoutMs) : Promise.resolve(true);
    // net.Server's close, not http.Server's: that one also closes idle kept-alive connections at once, and a
    // request already on its way on one would be reset. They stay open until the requests in flight are done.
    const closed = new Promise<void>((resolve) => NetServer.prototype.close.call(server, () => resolve()));
    if (active === 0) server.closeIdleConnections();
    let timer: NodeJS.Timeout | undefined;
    const clean = await new Promise<boolean>((resolve) => {
      if (active === 0) return resolve(true);
      wakeWhenIdle = () => resolve(true);
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    clearTimeout(timer);
    // Whatever is still open now is idle, half-sent, or (after the timeout) a request given up on.
    server.closeAllConnections();
    await closed;
    const grpcClean = await grpcDone;
    await model.close();
    return { clean: clean && grpcClean, inflight };
  };

  return {
    url: `http://${urlHost}:${address.port}`,
    port: address.port,
    grpcPort: grpc?.port,
    model,
    statistics,
    get inflight() {
      return active;
    },
    close(options = {}) {
      closing ??= close(options.timeoutMs ?? 10_000);
      return closing;
    },
  };
}

// Read with listeners rather than `for await`: leaving an async iterator early destroys the socket, and the
// client would see a reset instead of the 413.
function readBody(req: IncomingMessage, limit: number, timeoutMs: number): Promise<Buffer> {
  const tooLarge = (size: string): HttpError =>
    new HttpError(413, `request body of ${size} exceeds the limit of ${limit} bytes (--max-body-bytes)`);
  const declared = Number(req.headers['content-length']);
  if (declared > limit) return Promise.reject(tooLarge(`${declared} bytes`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (error: HttpError): void => {
      clearTimeout(timer);
      req.off('data', onData);
      reject(error);
    };
    const timer = setTimeout(
      () =>
        stop(
          new HttpError(
            408,
            `request body: expected it within ${timeoutMs} ms (--body-timeout-ms), received ${size} of ${Number.isFinite(declared) ? declared : 'an unknown number of'} bytes`,
          ),
        ),
      timeoutMs,
    );
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      stop(tooLarge(`more than ${limit} bytes`));
    };
    req.on('data', onData);
    req.once('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks, size));
    });
    req.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}
