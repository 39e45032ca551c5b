// The server (node:http): its limits, the listener with its timeouts, the gRPC service beside it when asked for, and
// a graceful close that stops accepting, answers requests on kept-alive connections with 503, lets every request in
// flight finish, then frees the models. What each request gets is http-handler.ts's; what the parser refuses
// (a malformed request, CONNECT) is answered here, never with a silently closed socket.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Server as NetServer, type AddressInfo, type Socket } from 'node:net';
import { DepthfoldInputError } from '@depthfold/core';
import { startGrpcService, type GrpcService } from './grpc-server.js';
import { requestHandler } from './http-handler.js';
import { IMAGE_DECODER_DEFAULTS, ImageDecoder } from './image-decoder.js';
import { ModelRepository } from './model-repository.js';
import { EXTENSIONS, type ServerMetadata } from './protocol.js';
import { RequestTracker } from './request-tracker.js';
import type { ServedModel } from './served-model.js';
import type { ServerStatistics } from './statistics.js';

/** Where and how the server listens. */
export interface ServerOptions {
  /** Interface to bind; default 127.0.0.1 (loopback only). */
  host?: string;
  /** TCP port; 0 picks a free one; default 8000. */
  port?: number;
  /** Largest request body accepted, in bytes, before and after decompression; larger ones get 413. Default 8 MiB. */
  maxBodyBytes?: number;
  /**
   * How many bytes of a refused request's body (413, 404...) are read and thrown away so that a client that writes
   * its whole body before reading gets the reply; a body declared larger is answered at once and its connection
   * closed. Default 64 MiB.
   */
  maxDiscardBytes?: number;
  /** How long a client may take to send a request's headers before its connection is cut (408); default 10 s. */
  headersTimeoutMs?: number;
  /** How long a client may take to send a request's body, from the end of its headers, before 408 and a cut; default 10 s. */
  bodyTimeoutMs?: number;
  /** How long an idle kept-alive connection stays open for the next request; default 5 s. */
  keepAliveTimeoutMs?: number;
  /** Also serve the KServe V2 gRPC service on this port (0 picks a free one) of `host`; default: no gRPC. */
  grpcPort?: number;
  /**
   * Threads decoding the images of BYTES inputs, each one image at a time, shared by every model and both protocols;
   * default the cores, at most 4. They start with the first image.
   */
  imageDecodeThreads?: number;
  /** Images waiting for a decode thread, at most; a request whose images would pass it gets 503. Default 256. */
  maxImageQueue?: number;
}

/** The defaults of {@link ServerOptions}. */
export const SERVER_DEFAULTS = Object.freeze({
  host: '127.0.0.1',
  port: 8000,
  maxBodyBytes: 8 * 1024 * 1024,
  maxDiscardBytes: 64 * 1024 * 1024,
  headersTimeoutMs: 10_000,
  bodyTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  imageDecodeThreads: IMAGE_DECODER_DEFAULTS.threads,
  maxImageQueue: IMAGE_DECODER_DEFAULTS.maxQueue,
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
  /** The models it serves. */
  readonly repository: ModelRepository;
  /** Their statistics and metrics (`GET /v2/models[/{name}]/stats`, `GET /metrics`). */
  readonly statistics: ServerStatistics;
  /** The threads that decode BYTES inputs' images, and their counters. */
  readonly images: ImageDecoder;
  /** Requests being handled now. */
  readonly inflight: number;
  /**
   * Stops accepting connections, answers requests that arrive on open connections with 503, waits for those in
   * flight (up to `timeoutMs`, default 10 s, then drops them), and releases the models.
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
  const { maxBodyBytes, maxDiscardBytes, headersTimeoutMs, bodyTimeoutMs, keepAliveTimeoutMs } = limits;
  const { imageDecodeThreads, maxImageQueue } = limits;
  for (const [field, value] of Object.entries({
    maxBodyBytes,
    maxDiscardBytes,
    headersTimeoutMs,
    bodyTimeoutMs,
    keepAliveTimeoutMs,
    imageDecodeThreads,
    maxImageQueue,
  })) {
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
  // A client that asks before sending its body (`Expect: 100-continue`) is told 413 without sending it; the
  // connection then ends, since the body it declared will not follow.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    const declared = Number(req.headers['content-length']);
    if (!(declared > maxBodyBytes)) {
      res.writeContinue();
      return handler(req, res);
    }
    const text = JSON.stringify({
      error: `request body of ${declared} bytes exceeds the limit of ${maxBodyBytes} bytes (--max-body-bytes)`,
    });
    res.writeHead(413, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(text),
      Connection: 'close',
    });
    res.end(text);
  });
  // CONNECT asks for a tunnel, which node:http hands to this event and, unheard, answers by closing the socket.
  server.on('connect', (req: IncomingMessage, socket: Socket) => {
    rawReply(
      socket,
      405,
      `method CONNECT is not allowed: this server speaks the KServe V2 protocol under /v2, it is no proxy (${req.url ?? ''})`,
      {
        Allow: 'GET, HEAD, POST',
      },
    );
  });
  // What the HTTP parser refuses (an unknown method, a malformed header) gets a reply that says why.
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (error.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
    if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT')
      return rawReply(
        socket,
        408,
        'request: expected it whole within the time allowed (--headers-timeout-ms, --body-timeout-ms)',
      );
    if (error.code === 'HPE_HEADER_OVERFLOW')
      return rawReply(socket, 431, 'request headers: larger than the server accepts');
    rawReply(
      socket,
      400,
      `malformed HTTP request (${error.code ?? 'parse error'}: ${error.message}); unknown methods are refused`,
    );
  });
  return server;
}

const REASONS: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
};

// A reply written on the socket itself, where node:http has no response object, and the connection ended.
function rawReply(socket: Socket, status: number, message: string, headers: Record<string, string> = {}): void {
  const body = JSON.stringify({ error: message });
  const lines = [
    `HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}`,
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
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
  readonly repository: ModelRepository;
  readonly images: ImageDecoder;
}

/**
 * Stops accepting, lets the requests in flight on both protocols finish (up to `timeoutMs`), cuts what is left, then
 * releases the model.
 */
async function closeGracefully(
  { server, grpc, tracker, repository, images }: Running,
  timeoutMs: number,
): Promise<CloseResult> {
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
  await images.close();
  await repository.close();
  return { clean: clean && grpcClean, inflight };
}

/** `http://host:port` of a listening server (IPv6 addresses in brackets). */
function urlOf(server: Server): { url: string; port: number } {
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return { url: `http://${host}:${address.port}`, port: address.port };
}

/**
 * Serves a repository of models (or one model already loaded) over the KServe V2 REST protocol, and over gRPC too
 * when `options.grpcPort` is given. The server owns what it serves: its close closes the models.
 * @throws DepthfoldInputError for a bad limit; the listen or bind error (e.g. EADDRINUSE).
 */
export async function startServer(
  models: ModelRepository | ServedModel,
  options: ServerOptions = {},
): Promise<InferenceServer> {
  const limits = checkServerOptions(options);
  const repository = models instanceof ModelRepository ? models : ModelRepository.ofModels([models]);
  const serverMetadata: ServerMetadata = { name: 'depthfold', version: packageVersion(), extensions: [...EXTENSIONS] };
  const { statistics } = repository;
  const tracker = new RequestTracker();
  const images = new ImageDecoder({ threads: limits.imageDecodeThreads, maxQueue: limits.maxImageQueue });
  const handler = requestHandler({
    repository,
    serverMetadata,
    tracker,
    maxBodyBytes: limits.maxBodyBytes,
    bodyTimeoutMs: limits.bodyTimeoutMs,
    maxDiscardBytes: limits.maxDiscardBytes,
    images,
  });
  const server = createListener(handler, limits);
  await listen(server, limits.port, limits.host);
  let grpc: GrpcService | undefined;
  if (options.grpcPort !== undefined) {
    try {
      grpc = await startGrpcService(repository, {
        host: limits.host,
        port: options.grpcPort,
        maxMessageBytes: limits.maxBodyBytes,
        serverMetadata,
        draining: () => tracker.draining,
        images,
      });
    } catch (error) {
      server.close();
      throw error;
    }
  }
  const running: Running = { server, grpc, tracker, repository, images };
  let closing: Promise<CloseResult> | undefined;
  return {
    ...urlOf(server),
    grpcPort: grpc?.port,
    repository,
    statistics,
    images,
    get inflight() {
      return tracker.active;
    },
    close(closeOptions = {}) {
      closing ??= closeGracefully(running, closeOptions.timeoutMs ?? 10_000);
      return closing;
    },
  };
}
