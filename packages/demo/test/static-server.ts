// A static file server for the built demo on 127.0.0.1 and a free port, with or without the COOP/COEP headers
// that make a page cross-origin isolated; other folders may be mounted beside it (a test's models and images).
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  // WebAssembly.instantiateStreaming refuses any other type.
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.webp': 'image/webp',
  '.svg': 'image/svg+xml',
};

/** A running server; `close` stops it. */
export interface StaticServer {
  /** The root URL, ending in `/`. */
  url: string;
  /** Paths requested so far, in order. */
  requests: string[];
  close(): Promise<void>;
}

/**
 * Serves the files under `root`; `isolated` adds COOP `same-origin` and COEP `require-corp` to every response.
 * @param mounts - Folders served under a name: `{ extra: dir }` serves `dir/a.png` at `/extra/a.png`.
 */
export async function serveStatic(
  root: string,
  isolated: boolean,
  mounts: Readonly<Record<string, string>> = {},
): Promise<StaticServer> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    requests.push(path);
    const mount = Object.keys(mounts).find((name) => path.startsWith(`/${name}/`));
    const base = mount === undefined ? root : mounts[mount]!;
    const rest = mount === undefined ? path : path.slice(mount.length + 1);
    const file = normalize(join(base, rest.endsWith('/') ? `${rest}index.html` : rest));
    if (isolated) {
      res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
      res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    }
    let size: number;
    try {
      if (!file.startsWith(base + sep)) throw new Error('outside the root');
      size = statSync(file).size;
    } catch {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, {
      'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
      'Content-Length': size,
      'Cache-Control': 'no-store',
    });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    close: () => new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}
