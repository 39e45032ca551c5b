// What the HTTP listener does with each request: route it, answer with the protocol's JSON or binary-tensor-data
// reply (compressed when Accept-Encoding asks), count inference outcomes per model version, and turn any failure into
// the protocol's error reply without leaving an unread body on a kept-alive connection.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { parseWith } from '@depthfold/core';
import { HEADER_LENGTH_HEADER, splitBinaryBody } from './binary-data.js';
import { notReadyError, outcomeOf, replyOf, shuttingDownError } from './errors.js';
import type { ImageDecoder } from './image-decoder.js';
import { assertFiniteLogits, decodeInferRequest, encodeInferReply, prepareRequest } from './infer-request.js';
import { parseJsonBody } from './json-body.js';
import { checkControlParameters, type ModelRepository } from './model-repository.js';
import { parametersSchema, type ServerMetadata } from './protocol.js';
import { compressReply, MIN_COMPRESSED_REPLY_BYTES, replyEncoding } from './reply-encoding.js';
import type { RequestTracker } from './request-tracker.js';
import { discardBody, readBody } from './request-body.js';
import { matchRoute, type RouteKind } from './routes.js';
import type { ServedModel } from './served-model.js';
import type { StatTarget } from './statistics.js';

/** What the handler answers from. */
export interface HandlerContext {
  readonly repository: ModelRepository;
  readonly serverMetadata: ServerMetadata;
  readonly tracker: RequestTracker;
  /** Largest request body accepted, in bytes, before and after decompression. */
  readonly maxBodyBytes: number;
  /** How long a request's body may take, from the end of its headers. */
  readonly bodyTimeoutMs: number;
  /** How much of a refused request's body is read and thrown away so that the client sees the reply. */
  readonly maxDiscardBytes: number;
  /** Decodes the images of BYTES inputs. */
  readonly images: ImageDecoder;
}

type Headers = Readonly<Record<string, string | number>>;

// While closing, every reply ends its connection so that the close does not wait on idle keep-alives.
const closingHeaders = (tracker: RequestTracker): Headers => (tracker.draining ? { Connection: 'close' } : {});

/** Writes a reply, compressed when the request's Accept-Encoding asks for it and the body is worth it. */
async function sendBytes(
  context: HandlerContext,
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  body: Buffer,
  headers: Headers,
): Promise<void> {
  const encoding =
    body.length >= MIN_COMPRESSED_REPLY_BYTES ? replyEncoding(req.headers['accept-encoding']) : undefined;
  const bytes = encoding ? await compressReply(body, encoding) : body;
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, {
    ...headers,
    'Content-Length': bytes.length,
    Vary: 'Accept-Encoding',
    ...(encoding ? { 'Content-Encoding': encoding } : {}),
    ...closingHeaders(context.tracker),
  });
  res.end(bytes);
}

function sendJson(
  context: HandlerContext,
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  body: unknown,
): Promise<void> {
  if (body === undefined) {
    if (!res.headersSent) {
      res.writeHead(status, { 'Content-Length': 0, ...closingHeaders(context.tracker) });
      res.end();
    }
    return Promise.resolve();
  }
  return sendBytes(context, req, res, status, Buffer.from(JSON.stringify(body)), {
    'Content-Type': 'application/json',
  });
}

// Routes that keep the protocol's answers while draining: live, and not ready (and the metrics, to watch the drain).
const ANSWERED_WHILE_DRAINING = new Set<RouteKind>(['server-live', 'server-ready', 'model-ready', 'metrics']);

// The bodies of the repository extension's requests: optional, and JSON when present.
const indexRequestSchema = z.object(
  { ready: z.boolean({ error: 'true or false' }).optional() },
  { error: 'an object' },
);
const controlRequestSchema = z.object({ parameters: parametersSchema.optional() }, { error: 'an object' });

async function jsonOrEmpty(context: HandlerContext, req: IncomingMessage, what: string): Promise<unknown> {
  const body = await readBody(req, context.maxBodyBytes, context.bodyTimeoutMs);
  return body.length === 0 ? {} : parseJsonBody(body, what);
}

/**
 * Answers one request by its route.
 * @throws HttpError (or a DepthfoldInputError from the request's decoding) for the error reply.
 */
async function routeRequest(context: HandlerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { repository, serverMetadata, tracker } = context;
  const { statistics } = repository;
  const send = (status: number, body: unknown): Promise<void> => sendJson(context, req, res, status, body);
  const path = (req.url ?? '/').split('?')[0]!;
  const route = matchRoute(req.method ?? 'GET', path);
  // A request on a connection kept alive from before the close: answered, not reset, and told to go elsewhere
  // (every reply adds `Connection: close` while draining).
  if (tracker.draining && !ANSWERED_WHILE_DRAINING.has(route.kind)) throw shuttingDownError();
  switch (route.kind) {
    case 'server-metadata':
      return send(200, serverMetadata);
    case 'server-live':
      return send(200, undefined);
    // The protocol: health answers are the status alone, 200 for true and a 4xx for false.
    case 'server-ready':
      return send(!tracker.draining && repository.healthy ? 200 : 400, undefined);
    case 'model-ready': {
      const model = repository.model(route.model, route.version);
      return send(!tracker.draining && model.ready ? 200 : 400, undefined);
    }
    case 'model-metadata':
      return send(200, repository.metadata(route.model, route.version));
    case 'model-config':
      return send(200, repository.config(route.model, route.version));
    case 'model-stats':
      return send(200, statistics.modelStats(route.model, route.version));
    case 'models-stats':
      return send(200, statistics.modelStats());
    case 'metrics': {
      const text = await statistics.registry.metrics();
      return sendBytes(context, req, res, 200, Buffer.from(text), { 'Content-Type': statistics.registry.contentType });
    }
    case 'repository-index': {
      const request = parseWith(indexRequestSchema, await jsonOrEmpty(context, req, 'index request'), 'index request');
      return send(200, await repository.index(request.ready ?? false));
    }
    case 'repository-load':
    case 'repository-unload': {
      const load = route.kind === 'repository-load';
      const what = load ? 'load request' : 'unload request';
      const request = parseWith(controlRequestSchema, await jsonOrEmpty(context, req, what), what);
      checkControlParameters(request.parameters, load);
      await (load ? repository.load(route.model) : repository.unload(route.model));
      return send(200, undefined);
    }
    case 'model-infer': {
      const started = performance.now();
      let target: StatTarget | undefined;
      try {
        const lease = repository.acquire(route.model, route.version);
        target = lease.model.spec;
        try {
          await inferRequest(context, req, res, lease.model);
        } finally {
          lease.release();
        }
        statistics.outcome('http', 'success', performance.now() - started, target);
      } catch (error) {
        statistics.outcome('http', outcomeOf(error), performance.now() - started, target);
        throw error;
      }
      return;
    }
  }
}

// One inference request, JSON or binary, answered in kind.
async function inferRequest(
  context: HandlerContext,
  req: IncomingMessage,
  res: ServerResponse,
  model: ServedModel,
): Promise<void> {
  const { spec } = model;
  if (!model.ready) throw notReadyError(spec.name);
  const body = await readBody(req, context.maxBodyBytes, context.bodyTimeoutMs);
  // The binary tensor data extension: the JSON header, then the tensors' bytes; its header length counts the
  // decompressed JSON.
  const headerLength = req.headers[HEADER_LENGTH_HEADER.toLowerCase()];
  const parts = headerLength === undefined ? undefined : splitBinaryBody(body, headerLength);
  const json = parseJsonBody(parts ? parts.header : body, parts ? 'inference header' : 'request body');
  const request = await prepareRequest(decodeInferRequest(json, spec, parts?.binary), spec, context.images);
  const logits = await model.infer(request.input, request.rows);
  assertFiniteLogits(logits, spec.labels.length);
  const reply = encodeInferReply(spec, request, logits);
  if (reply.binary.length === 0) return sendJson(context, req, res, 200, reply.response);
  // A binary reply: the JSON header, its length in Inference-Header-Content-Length, then each binary output's bytes.
  const header = Buffer.from(JSON.stringify(reply.response));
  return sendBytes(context, req, res, 200, Buffer.concat([header, ...reply.binary]), {
    'Content-Type': 'application/octet-stream',
    [HEADER_LENGTH_HEADER]: header.length,
  });
}

/** The listener of node:http's `request` event: each request tracked, routed, and answered even when it fails. */
export function requestHandler(context: HandlerContext): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    context.tracker.track(res);
    routeRequest(context, req, res).catch((error: unknown) => {
      const { status, message, headers } = replyOf(error);
      // A body left unread (413, or an error before reading it) would be taken for the next request on this
      // connection: it is read and thrown away (up to --max-discard-bytes) so that a client writing its whole body
      // before reading still gets this reply, and the connection stays usable. One declared larger than that bound
      // is not waited for: the reply ends the connection.
      const unread = !req.complete;
      const declared = Number(req.headers['content-length']);
      const close = unread && (status === 408 || declared > context.maxDiscardBytes);
      if (unread && !close) discardBody(req, context.maxDiscardBytes);
      else if (unread) req.resume();
      if (res.headersSent) return void res.destroy();
      const text = JSON.stringify({ error: message });
      res.writeHead(status, {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(text),
        ...closingHeaders(context.tracker),
        ...headers,
        ...(close ? { Connection: 'close' } : {}),
      });
      res.end(text);
      // A client too slow to send its body is not waited for any longer once it has its 408.
      if (status === 408) res.once('finish', () => req.socket.destroy());
    });
  };
}
