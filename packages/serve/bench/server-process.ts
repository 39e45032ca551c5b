// The server under a bench, started as `pnpm serve` would run it (node dist/cli/serve.js) in a child process, once
// its log says where it listens.
import { type ChildProcess, spawn } from 'node:child_process';

/** A started server process. */
export interface ServerProcess {
  /** Its HTTP base URL, from the `listening on` line. */
  url: string;
  child: ChildProcess;
  /** Everything it has written so far, stdout and stderr. */
  output: () => string;
  /** Its exit code, once it exits. */
  exited: Promise<number | null>;
}

/**
 * Starts `node <args>` (the CLI's path first) and resolves once it listens.
 * @throws Error with its output when it exits first.
 */
export async function startServerProcess(args: string[]): Promise<ServerProcess> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearInterval(timer);
        resolve(m[1]!);
      }
    }, 20);
    void exited.then((code) => {
      clearInterval(timer);
      reject(new Error(`server exited (${code}) before listening:\n${out}`));
    });
  });
  return { url, child, output: () => out, exited };
}
