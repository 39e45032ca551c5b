// Errors that carry their HTTP status, and the mapping of any thrown value to the protocol's error reply.
import { DepthfoldInputError } from '@depthfold/core';

/** A failure the server answers with a specific HTTP status and a `{"error": message}` body. */
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

/** How a failed inference request is counted in the metrics (statistics.ts's `Outcome`, less success). */
export function outcomeOf(
  error: unknown,
): 'invalid' | 'not_found' | 'overloaded' | 'unavailable' | 'too_large' | 'timeout' | 'error' {
  if (error instanceof DepthfoldInputError) return 'invalid';
  if (error instanceof OverloadedError) return 'overloaded';
  if (error instanceof HttpError) {
    const byStatus: Record<number, 'not_found' | 'unavailable' | 'too_large' | 'timeout'> = {
      404: 'not_found',
      503: 'unavailable',
      413: 'too_large',
      408: 'timeout',
    };
    return byStatus[error.status] ?? (error.status < 500 ? 'invalid' : 'error');
  }
  return 'error';
}

/** The status and message a thrown value is answered with: bad input is 400, anything unforeseen 500. */
export function replyOf(error: unknown): {
  status: number;
  message: string;
  headers: Readonly<Record<string, string>>;
} {
  if (error instanceof HttpError) return { status: error.status, message: error.message, headers: error.headers };
  if (error instanceof DepthfoldInputError) return { status: 400, message: error.message, headers: {} };
  const message = error instanceof Error ? error.message : String(error);
  return { status: 500, message: `internal error: ${message.replace(/\s+/g, ' ').trim()}`, headers: {} };
}
