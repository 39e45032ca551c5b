// The server (node:http): its limits, the listener with its timeouts, the gRPC service beside it when asked for, and
// a graceful close that stops accepting, answers requests on kept-alive connections with 503, lets every request in
// flight finish, then frees the model. What each request gets is http-handler.ts's.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Server as NetServer, type AddressInfo } from 'node:net';
import { DepthfoldInputError } from '@depthfold/core';
import { startGrpcService, type GrpcService } from './grpc-server.js';
import { requestHandler } from './http-handler.js';
import { modelMetadataResponse } from './model-spec.js';
import { EXTENSIONS, type ServerMetadata } from './protocol.js';
import { RequestTracker } from './request-tracker.js';
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

type Limits = Required<Omit<ServerOptions, 'grpcPort'>>;

/**
 * The options with their defaults.
 * @throws DepthfoldInputError naming a limit that is not an integer >= 1.
 */
function checkServerOptions(options: ServerOptions): Limits {
  const limits = { ...SERVER_DEFAULTS, ...options };
  const { maxBodyBytes, headersTimeoutMs, bodyTimeoutMs, keepAliveTimeoutMs } = limits;
  for (const [field, value] of Object.entries({ maxBodyBytes, headersTimeoutMs, bodyTimeoutMs, keepAliveTimeoutMs })) {
    if (!Number.isInteger(value) || value < 1)
      throw new DepthfoldInputError(field, 'an integer >= 1', value, 'server options');
  }
  return limits;
}

/** An HTTP server (not yet listening) whose timeouts are `limits` and whose requests go to `handler`. */
function createListener(handler: (req: IncomingMessage, res: ServerResponse) => void, limits: Limits): Server {
  const { headersTimeoutMs, bodyTimeoutMs, keepAliveTimeoutMs, maxBodyBytes } = limits;
  const server = createServer(
    {
      headersTimeout: headersTimeoutMs,
      // Node's own limit on the whole request, a backstop behind the body timeout that readBody enforces.
      requestTimeout: headersTimeoutMs + bodyTimeoutMs,
      keepAliveTimeout: keepAliveTimeoutMs,
      // Node checks the header and request timeouts on this period (default 30 s, so a slow client could hold a
      // connection for a minute); a second keeps the cut within a second of the limit.
      connectionsCheckingInterval: Math.min(1000, headersTimeoutMs),
    },
    handler,
  );
  // A client that asks before sending its body (`Expect: 100-continue`) is told 413 without sending it.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    if (!(Number(req.headers['content-length']) > maxBodyBytes)) res.writeContinue();
    handler(req, res);
  });
  return server;
}

/**
 * Binds `server` to `host:port`.
 * @throws the listen error (e.g. EADDRINUSE).
 */
function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** The parts a graceful close ends, in order. */
interface Running {
  readonly server: Server;
  readonly grpc: GrpcService | undefined;
  readonly tracker: RequestTracker;
  readonly model: ServedModel;
}

/**
 * Stops accepting, lets the requests in flight on both protocols finish (up to `timeoutMs`), cuts what is left, then
 * releases the model.
 */
async function closeGracefully({ server, grpc, tracker, model }: Running, timeoutMs: number): Promise<CloseResult> {
  tracker.drain();
  const inflight = tracker.active + (grpc?.inflight ?? 0);
  const grpcDone = grpc ? grpc.shutdown(timeoutMs) : Promise.resolve(true);
  // net.Server's close, not http.Server's: that one also closes idle kept-alive connections at once, and a
  // request already on its way on one would be reset. They stay open until the requests in flight are done.
  const closed = new Promise<void>((resolve) => NetServer.prototype.close.call(server, () => resolve()));
  if (tracker.active === 0) server.closeIdleConnections();
  const clean = await tracker.whenIdle(timeoutMs);
  // Whatever is still open now is idle, half-sent, or (after the timeout) a request given up on.
  server.closeAllConnections();
  await closed;
  const grpcClean = await grpcDone;
  await model.close();
  return { clean: clean && grpcClean, inflight };
}

/** `http://host:port` of a listening server (IPv6 addresses in brackets). */
function urlOf(server: Server): { url: string; port: number } {
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return { url: `http://${host}:${address.port}`, port: address.port };
}

/**
 * Serves `model` over the KServe V2 REST protocol, and over gRPC too when `options.grpcPort` is given.
 * @throws DepthfoldInputError for a bad limit; the listen or bind error (e.g. EADDRINUSE).
 */
export async function startServer(model: ServedModel, options: ServerOptions = {}): Promise<InferenceServer> {
  const limits = checkServerOptions(options);
  const serverMetadata: ServerMetadata = { name: 'depthfold', version: packageVersion(), extensions: [...EXTENSIONS] };
  const statistics = new ServerStatistics(model.spec, model.batcher);
  const tracker = new RequestTracker();
  const handler = requestHandler({
    model,
    statistics,
    serverMetadata,
    modelMetadata: modelMetadataResponse(model.spec),
    tracker,
    maxBodyBytes: limits.maxBodyBytes,
    bodyTimeoutMs: limits.bodyTimeoutMs,
  });
  const server = createListener(handler, limits);
  await listen(server, limits.port, limits.host);
  let grpc: GrpcService | undefined;
  if (options.grpcPort !== undefined) {
    try {
      grpc = await startGrpcService(model, {
        host: limits.host,
        port: options.grpcPort,
        maxMessageBytes: limits.maxBodyBytes,
        serverMetadata,
        statistics,
        draining: () => tracker.draining,
      });
    } catch (error) {
      server.close();
      throw error;
    }
  }
  const running: Running = { server, grpc, tracker, model };
  let closing: Promise<CloseResult> | undefined;
  return {
    ...urlOf(server),
    grpcPort: grpc?.port,
    model,
    statistics,
    get inflight() {
      return tracker.active;
    },
    close(closeOptions = {}) {
      closing ??= closeGracefully(running, closeOptions.timeoutMs ?? 10_000);
      return closing;
    },
  };
}
