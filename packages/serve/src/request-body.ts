// A request's body read in full, bounded in size (413) and in time (408), without leaving the connection in a state
// where the client would see a reset instead of the reply.
import type { IncomingMessage } from 'node:http';
import { HttpError } from './errors.js';

// Read with listeners rather than `for await`: leaving an async iterator early destroys the socket, and the
// client would see a reset instead of the 413.
/**
 * The whole body of `req`, at most `limit` bytes, arriving within `timeoutMs` of the call.
 * @throws HttpError 413 for a body over the limit (declared or sent), 408 for one that takes too long.
 */
export function readBody(req: IncomingMessage, limit: number, timeoutMs: number): Promise<Buffer> {
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
