// A raw HTTP/1.1 client over one TCP socket, for what fetch cannot do: send a request slowly or in part, keep a
// connection alive across a server's close, and see exactly when the server cuts it.
import { connect, type Socket } from 'node:net';

/** One TCP connection to the server, collecting every byte it answers. */
export interface RawConnection {
  readonly socket: Socket;
  /** What the server has sent so far. */
  received(): string;
  /** Resolves once the server has ended or reset the connection, with the milliseconds since connecting. */
  readonly closed: Promise<number>;
  /** Resolves when `pattern` appears in what was received (rejects after `timeoutMs`). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  write(data: string | Uint8Array): void;
}

/** Opens a connection to `url`'s host and port. */
export async function rawConnection(url: string): Promise<RawConnection> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const t0 = performance.now();
  let text = '';
  const waiters = new Set<() => void>();
  socket.on('data', (d: Buffer) => {
    text += d.toString('latin1');
    for (const w of waiters) w();
  });
  socket.on('error', () => {});
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(performance.now() - t0)));
  return {
    socket,
    received: () => text,
    closed,
    write: (data) => void socket.write(data),
    waitFor(pattern, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const m = pattern.exec(text);
          if (!m) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(m[0]);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no ${pattern} in ${timeoutMs} ms; received ${JSON.stringify(text.slice(0, 300))}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}

/** The text of one HTTP/1.1 request with a body (Content-Length set from it). */
export function requestText(
  method: string,
  path: string,
  body: string | Uint8Array = '',
  headers: Record<string, string> = {},
): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body) : Buffer.from(body);
  const lines = [
    `${method} ${path} HTTP/1.1`,
    'Host: 127.0.0.1',
    `Content-Length: ${bytes.length}`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`), bytes]);
}
