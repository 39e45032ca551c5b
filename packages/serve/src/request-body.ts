// A request's body read in full, bounded in size (413) and in time (408), decompressed when its Content-Encoding is
// gzip or deflate (the limit is on the decompressed bytes too, checked as they come out of zlib, so a zip bomb costs
// at most the limit in memory), without leaving the connection in a state where the client would see a reset
// instead of the reply: what is not read is discarded by discardBody.
import type { IncomingMessage } from 'node:http';
import { createGunzip, createInflate, createInflateRaw } from 'node:zlib';
import type { Transform } from 'node:stream';
import { HttpError } from './errors.js';

/** Content codings a request body may use, besides `identity`. */
export const REQUEST_ENCODINGS = ['gzip', 'deflate'] as const;

/** A content coding of {@link REQUEST_ENCODINGS}. */
export type RequestEncoding = (typeof REQUEST_ENCODINGS)[number];

/**
 * The codings of a request's `Content-Encoding`, in the order they were applied (`identity` dropped).
 * @throws HttpError 415 naming a coding this server does not decode, with `Accept-Encoding` saying which it does.
 */
export function requestEncodings(header: string | undefined): RequestEncoding[] {
  if (header === undefined) return [];
  const codings = header
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '' && c !== 'identity')
    .map((c) => (c === 'x-gzip' ? 'gzip' : c));
  for (const coding of codings) {
    if (!(REQUEST_ENCODINGS as readonly string[]).includes(coding))
      throw new HttpError(
        415,
        `Content-Encoding: expected ${REQUEST_ENCODINGS.join(', ')} or identity, received ${JSON.stringify(coding)}`,
        { 'Accept-Encoding': REQUEST_ENCODINGS.join(', ') },
      );
  }
  return codings as RequestEncoding[];
}

// HTTP's "deflate" is the zlib format (RFC 1950), but some clients send raw deflate (RFC 1951): a zlib stream opens
// with a header whose method is 8 and whose two bytes are a multiple of 31.
function decoderOf(coding: RequestEncoding, head: Uint8Array): Transform {
  if (coding === 'gzip') return createGunzip();
  const zlibHeader = head.length < 2 || ((head[0]! & 0x0f) === 8 && ((head[0]! << 8) | head[1]!) % 31 === 0);
  return zlibHeader ? createInflate() : createInflateRaw();
}

// Read with listeners rather than `for await`: leaving an async iterator early destroys the socket, and the
// client would see a reset instead of the 413.
/**
 * The whole body of `req`, decoded, at most `limit` bytes before and after decoding, arriving within `timeoutMs`.
 * @throws HttpError 413 for a body over the limit (declared, sent or decompressed), 408 for one that takes too long,
 * 415 for a Content-Encoding that is not gzip, deflate or identity, 400 for bytes that do not decode as it says.
 */
export function readBody(req: IncomingMessage, limit: number, timeoutMs: number): Promise<Buffer> {
  const tooLarge = (size: string): HttpError =>
    new HttpError(413, `request body of ${size} exceeds the limit of ${limit} bytes (--max-body-bytes)`);
  let codings: RequestEncoding[];
  try {
    codings = requestEncodings(req.headers['content-encoding']);
  } catch (error) {
    return Promise.reject(error);
  }
  const declared = Number(req.headers['content-length']);
  if (declared > limit) return Promise.reject(tooLarge(`${declared} bytes`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let received = 0;
    let decoders: Transform[] | undefined;
    let settled = false;
    const finish = (error: HttpError | undefined, body?: Buffer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      for (const d of decoders ?? []) d.destroy();
      if (error) reject(error);
      else resolve(body!);
    };
    const timer = setTimeout(
      () =>
        finish(
          new HttpError(
            408,
            `request body: expected it within ${timeoutMs} ms (--body-timeout-ms), received ${received} of ${Number.isFinite(declared) ? declared : 'an unknown number of'} bytes`,
          ),
        ),
      timeoutMs,
    );
    const onDecoded = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      finish(tooLarge(`more than ${limit} bytes once decompressed (Content-Encoding ${codings.join(', ')})`));
    };
    // The codings were applied in the order listed, so they come off in reverse: the last decoder feeds onDecoded.
    const startDecoders = (head: Buffer): Transform[] => {
      const chain = [...codings].reverse().map((c, i) => decoderOf(c, i === 0 ? head : Buffer.alloc(0)));
      chain.forEach((d, i) => {
        const next = chain[i + 1];
        if (next) d.pipe(next);
        else {
          d.on('data', onDecoded);
          d.once('end', () => finish(undefined, Buffer.concat(chunks, size)));
        }
        d.on('error', (error: Error) =>
          finish(
            new HttpError(
              400,
              `request body: Content-Encoding ${codings.join(', ')}, but the body is not valid ${codings[codings.length - 1 - i]} data (${error.message})`,
            ),
          ),
        );
      });
      return chain;
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > limit) return void finish(tooLarge(`more than ${limit} bytes`));
      if (codings.length === 0) return void onDecoded(chunk);
      decoders ??= startDecoders(chunk);
      decoders[0]!.write(chunk);
    };
    const onEnd = (): void => {
      if (codings.length === 0) return void finish(undefined, Buffer.concat(chunks, size));
      decoders ??= startDecoders(Buffer.alloc(0));
      decoders[0]!.end();
    };
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', (error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(error);
    });
  });
}

/**
 * Reads and throws away what is left of a request's body, so that a client that writes its whole body before
 * reading (Python's http.client) receives the reply sent before it, and the connection stays usable. Past
 * `bound` more bytes the connection is cut: a client streaming without end is not read forever.
 */
export function discardBody(req: IncomingMessage, bound: number): void {
  if (req.complete) return;
  let discarded = 0;
  req.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > bound) req.socket.destroy();
  });
  req.resume();
}
