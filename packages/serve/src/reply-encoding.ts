// Compressed replies: the coding a request's `Accept-Encoding` prefers among gzip and deflate (RFC 9110 12.5.3,
// q-values and `*` included), and the bytes compressed with node:zlib off the event loop.
import { promisify } from 'node:util';
import { deflate, gzip } from 'node:zlib';

/** Codings a reply may use. */
export type ReplyEncoding = 'gzip' | 'deflate';

/** Replies shorter than this go uncompressed whatever was asked: gzip's own framing would outweigh the gain. */
export const MIN_COMPRESSED_REPLY_BYTES = 256;

const gzipAsync = promisify(gzip);
const deflateAsync = promisify(deflate);

/** The coding to answer with for an `Accept-Encoding` header: the highest q of gzip and deflate (gzip on a tie). */
export function replyEncoding(header: string | undefined): ReplyEncoding | undefined {
  if (header === undefined) return undefined;
  const q = new Map<string, number>();
  for (const part of header.split(',')) {
    const [token = '', ...params] = part.split(';').map((p) => p.trim());
    if (token === '') continue;
    const qParam = params.find((p) => /^q=/i.test(p));
    const value = qParam === undefined ? 1 : Number(qParam.slice(2));
    q.set(token.toLowerCase(), Number.isFinite(value) ? value : 0);
  }
  const wildcard = q.get('*') ?? 0;
  const of = (coding: ReplyEncoding): number =>
    q.get(coding) ?? (coding === 'gzip' ? (q.get('x-gzip') ?? wildcard) : wildcard);
  const [gz, df] = [of('gzip'), of('deflate')];
  if (gz <= 0 && df <= 0) return undefined;
  return gz >= df ? 'gzip' : 'deflate';
}

/** `body` compressed with `encoding` (deflate in the zlib format, as HTTP means it). */
export function compressReply(body: Buffer, encoding: ReplyEncoding): Promise<Buffer> {
  return encoding === 'gzip' ? gzipAsync(body) : deflateAsync(body);
}
