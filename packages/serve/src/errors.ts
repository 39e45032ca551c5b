// The server's one vocabulary of failures: the error classes of @depthfold/core and @depthfold/infer, and HttpError
// for what only a server says (404, 405, 408, 413, 415, 503, 507), each mapped by its class to an HTTP status, a gRPC code and
// the outcome the metrics count. REST and gRPC both answer through failureOf, so they cannot disagree.
import { DepthfoldInputError } from '@depthfold/core';
import { status as GrpcStatus } from '@grpc/grpc-js';

/**
 * A failure the server answers with a specific HTTP status and a `{"error": message}` body; the gRPC service answers
 * the same failure with the code `failureOf` maps the status to.
 */
export class HttpError extends Error {
  /** The HTTP status code of the reply. */
  readonly status: number;
  /** Extra response headers (e.g. `Allow` on 405). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.headers = headers;
  }
}

/** The batcher's queue is full: 503 over HTTP, RESOURCE_EXHAUSTED over gRPC, and worth a retry soon. */
export class OverloadedError extends HttpError {
  constructor(message: string) {
    super(503, message, { 'Retry-After': '1' });
    this.name = 'OverloadedError';
  }
}

/** A request that arrives while the server closes: 503 (gRPC UNAVAILABLE), to be retried elsewhere. */
export function shuttingDownError(): HttpError {
  return new HttpError(503, 'server is shutting down; retry on another instance');
}

/** A request for a model whose sessions are down: 503 (gRPC UNAVAILABLE). */
export function notReadyError(name: string): HttpError {
  return new HttpError(503, `model ${JSON.stringify(name)} is not ready`);
}

/** How a failed inference request is counted in the metrics (statistics.ts's `Outcome`, less success). */
export type FailureOutcome = 'invalid' | 'not_found' | 'overloaded' | 'unavailable' | 'too_large' | 'timeout' | 'error';

/** How the server answers one thrown value, over each protocol, and how the metrics count it. */
export interface Failure {
  readonly outcome: FailureOutcome;
  /** The HTTP status; 500 for anything unforeseen. */
  readonly status: number;
  /** The gRPC status code. */
  readonly grpcCode: GrpcStatus;
  /** The error's own message; the protocols prefix an unforeseen one with `internal error: `. */
  readonly message: string;
  /** Extra HTTP response headers. */
  readonly headers: Readonly<Record<string, string>>;
}

// What a server-side status means to a gRPC client and to the metrics; a status not listed is the client's fault.
const BY_STATUS: Readonly<Record<number, { grpcCode: GrpcStatus; outcome: FailureOutcome }>> = {
  404: { grpcCode: GrpcStatus.NOT_FOUND, outcome: 'not_found' },
  408: { grpcCode: GrpcStatus.INVALID_ARGUMENT, outcome: 'timeout' },
  413: { grpcCode: GrpcStatus.RESOURCE_EXHAUSTED, outcome: 'too_large' },
  503: { grpcCode: GrpcStatus.UNAVAILABLE, outcome: 'unavailable' },
  // A load refused by --max-loaded-models or --max-model-bytes.
  507: { grpcCode: GrpcStatus.RESOURCE_EXHAUSTED, outcome: 'overloaded' },
};

/**
 * The answer to a thrown value, by its class: {@link OverloadedError} is 503 / RESOURCE_EXHAUSTED; another
 * {@link HttpError} its own status; a `DepthfoldInputError` (infer's InferInputError, InferModelError and
 * InferIntegrityError are ones) 400 / INVALID_ARGUMENT; anything else 500 / INTERNAL.
 */
export function failureOf(error: unknown): Failure {
  if (error instanceof OverloadedError) {
    const { status, message, headers } = error;
    return { outcome: 'overloaded', status, grpcCode: GrpcStatus.RESOURCE_EXHAUSTED, message, headers };
  }
  if (error instanceof HttpError) {
    const { status, message, headers } = error;
    const mapped = BY_STATUS[status] ?? {
      grpcCode: GrpcStatus.INVALID_ARGUMENT,
      outcome: status < 500 ? 'invalid' : 'error',
    };
    return { ...mapped, status, message, headers };
  }
  if (error instanceof DepthfoldInputError) {
    return {
      outcome: 'invalid',
      status: 400,
      grpcCode: GrpcStatus.INVALID_ARGUMENT,
      message: error.message,
      headers: {},
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { outcome: 'error', status: 500, grpcCode: GrpcStatus.INTERNAL, message, headers: {} };
}

/** How a failed inference request is counted in the metrics. */
export function outcomeOf(error: unknown): FailureOutcome {
  return failureOf(error).outcome;
}

/** The HTTP status and message a thrown value is answered with: bad input is 400, anything unforeseen 500. */
export function replyOf(error: unknown): {
  status: number;
  message: string;
  headers: Readonly<Record<string, string>>;
} {
  const { status, grpcCode, message, headers } = failureOf(error);
  if (grpcCode !== GrpcStatus.INTERNAL) return { status, message, headers };
  return { status, message: `internal error: ${message.replace(/\s+/g, ' ').trim()}`, headers };
}

/** The gRPC status code and details a thrown value is answered with. */
export function grpcReplyOf(error: unknown): { code: GrpcStatus; details: string } {
  const { grpcCode, message } = failureOf(error);
  return { code: grpcCode, details: grpcCode === GrpcStatus.INTERNAL ? `internal error: ${message}` : message };
}
