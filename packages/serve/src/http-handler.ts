// What the HTTP listener does with each request: route it, answer with the protocol's JSON or binary-tensor-data
// reply, count inference outcomes, and turn any failure into the protocol's error reply without leaving an unread
// body on a kept-alive connection.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HEADER_LENGTH_HEADER, splitBinaryBody } from './binary-data.js';
import { notReadyError, outcomeOf, replyOf, shuttingDownError } from './errors.js';
import { assertFiniteLogits, decodeInferRequest, encodeInferReply } from './infer-request.js';
import { parseJsonBody } from './json-body.js';
import { assertServes } from './model-spec.js';
import type { ModelMetadataResponse, ServerMetadata } from './protocol.js';
import type { RequestTracker } from './request-tracker.js';
import { readBody } from './request-body.js';
import { matchRoute } from './routes.js';
import type { ServedModel } from './served-model.js';
import type { ServerStatistics } from './statistics.js';

/** What the handler answers from. */
export interface HandlerContext {
  readonly model: ServedModel;
  readonly statistics: ServerStatistics;
  readonly serverMetadata: ServerMetadata;
  /** The reply to `GET /v2/models/{name}`, built once. */
  readonly modelMetadata: ModelMetadataResponse;
  readonly tracker: RequestTracker;
  /** Largest request body accepted, in bytes. */
  readonly maxBodyBytes: number;
  /** How long a request's body may take, from the end of its headers. */
  readonly bodyTimeoutMs: number;
}

type Headers = Readonly<Record<string, string>>;

// While closing, every reply ends its connection so that the close does not wait on idle keep-alives.
const closingHeaders = (tracker: RequestTracker): Headers => (tracker.draining ? { Connection: 'close' } : {});

function sendJson(
  tracker: RequestTracker,
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Headers = {},
): void {
  if (res.headersSent) return;
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    ...(text ? { 'Content-Type': 'application/json' } : {}),
    'Content-Length': Buffer.byteLength(text),
    ...closingHeaders(tracker),
    ...headers,
  });
  res.end(text);
}

// A binary reply: the JSON header, its length in Inference-Header-Content-Length, then each binary output's bytes.
function sendBinary(tracker: RequestTracker, res: ServerResponse, response: unknown, binary: readonly Buffer[]): void {
  const header = Buffer.from(JSON.stringify(response));
  const bytes = Buffer.concat([header, ...binary]);
  res.writeHead(200, {
    'Content-Type': 'application/octet-stream',
    'Content-Length': bytes.length,
    [HEADER_LENGTH_HEADER]: header.length,
    ...closingHeaders(tracker),
  });
  res.end(bytes);
}

// Routes that keep the protocol's answers while draining: live, and not ready (and the metrics, to watch the drain).
const ANSWERED_WHILE_DRAINING = new Set(['server-live', 'server-ready', 'model-ready', 'metrics']);

/**
 * Answers one request by its route.
 * @throws HttpError (or a DepthfoldInputError from the request's decoding) for the error reply.
 */
async function routeRequest(context: HandlerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { model, statistics, serverMetadata, modelMetadata, tracker } = context;
  const { spec } = model;
  const send = (status: number, body: unknown): void => sendJson(tracker, res, status, body);
  const path = (req.url ?? '/').split('?')[0]!;
  const route = matchRoute(req.method ?? 'GET', path);
  // A request on a connection kept alive from before the close: answered, not reset, and told to go elsewhere
  // (sendJson adds `Connection: close`).
  if (tracker.draining && !ANSWERED_WHILE_DRAINING.has(route.kind)) throw shuttingDownError();
  switch (route.kind) {
    case 'server-metadata':
      return send(200, serverMetadata);
    case 'server-live':
      return send(200, undefined);
    // The protocol: health answers are the status alone, 200 for true and a 4xx for false.
    case 'server-ready':
      return send(!tracker.draining && model.ready ? 200 : 400, undefined);
    case 'model-ready':
      assertServes(spec, route.model, route.version);
      return send(!tracker.draining && model.ready ? 200 : 400, undefined);
    case 'model-metadata':
      assertServes(spec, route.model, route.version);
      return send(200, modelMetadata);
    case 'model-stats':
      assertServes(spec, route.model, route.version);
      return send(200, statistics.modelStats());
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
        await inferRequest(context, req, res, route.model, route.version);
        statistics.outcome('http', 'success', performance.now() - started);
      } catch (error) {
        statistics.outcome('http', outcomeOf(error), performance.now() - started);
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
  name: string,
  version: string | undefined,
): Promise<void> {
  const { model, tracker } = context;
  const { spec } = model;
  assertServes(spec, name, version);
  if (!model.ready) throw notReadyError(spec.name);
  const body = await readBody(req, context.maxBodyBytes, context.bodyTimeoutMs);
  // The binary tensor data extension: the JSON header, then the tensors' bytes.
  const headerLength = req.headers[HEADER_LENGTH_HEADER.toLowerCase()];
  const parts = headerLength === undefined ? undefined : splitBinaryBody(body, headerLength);
  const json = parseJsonBody(parts ? parts.header : body, parts ? 'inference header' : 'request body');
  const request = decodeInferRequest(json, spec, parts?.binary);
  const logits = await model.infer(request.input, request.rows);
  assertFiniteLogits(logits, spec.labels.length);
  const reply = encodeInferReply(spec, request, logits);
  if (reply.binary.length === 0) return sendJson(tracker, res, 200, reply.response);
  return sendBinary(tracker, res, reply.response, reply.binary);
}

/** The listener of node:http's `request` event: each request tracked, routed, and answered even when it fails. */
export function requestHandler(context: HandlerContext): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    context.tracker.track(res);
    routeRequest(context, req, res).catch((error: unknown) => {
      const { status, message, headers } = replyOf(error);
      // A body left unread (413, or an error before reading it) would be taken for the next request on this
      // connection: end the connection after the reply, and read what is still coming so the client sees it.
      const unread = !req.complete;
      if (unread) req.resume();
      sendJson(
        context.tracker,
        res,
        status,
        { error: message },
        unread ? { ...headers, Connection: 'close' } : headers,
      );
      // A client too slow to send its body is not waited for any longer once it has its 408.
      if (status === 408) res.once('finish', () => req.socket.destroy());
    });
  };
}
