// SIGTERM and SIGINT on every documented way of starting the server: `pnpm serve` (pnpm does not forward signals
// to a script's grandchild, so the script `exec`s node), `node packages/serve/dist/cli/serve.js` and the package's
// bin run directly. SIGTERM goes to the started process alone, as `docker stop`, systemd or Kubernetes send it;
// SIGINT to its whole process group, as Ctrl-C in a terminal sends it. Each time a request in flight is answered,
// the server process itself exits 0, and nothing is left running. Needs the built package (pnpm test builds it).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { fixtureModelBytes, fixtureModelFile, MODEL_NAME, randomInput } from './fixtures.js';
import { fp32Request, postJson } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = fileURLToPath(new URL('../dist/cli/serve.js', import.meta.url));
let fixture: Awaited<ReturnType<typeof fixtureModelFile>>;

before(async () => {
  assert.ok(
    existsSync(BIN),
    `${BIN} is not built: run \`pnpm turbo run build --filter=@depthfold/serve...\` (pnpm test does)`,
  );
  fixture = await fixtureModelFile();
});
after(async () => {
  await fixture.cleanup();
});

const WAYS: Record<string, (args: string[]) => [string, string[]]> = {
  'pnpm serve': (args) => ['pnpm', ['--silent', 'serve', ...args]],
  'node packages/serve/dist/cli/serve.js': (args) => [process.execPath, [BIN, ...args]],
  'the depthfold-serve bin (dist/cli/serve.js run directly)': (args) => [BIN, args],
};

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function startedServer(
  command: string,
  args: string[],
): Promise<{ child: ChildProcess; url: string; pid: number; output: () => string; exited: Promise<number | null> }> {
  // Its own process group, so that SIGINT can go to the group as a terminal sends it.
  const child = spawn(command, args, { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const m = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "listening" line in 120 s:\n${text}`)), 120_000);
    child.stdout!.on('data', () => {
      const found = /listening on (http:\/\/\S+) .*; pid (\d+)/.exec(text);
      if (found) {
        clearTimeout(timer);
        resolve(found);
      }
    });
    void exited.then(() => reject(new Error(`exited before listening:\n${text}`)));
  });
  return { child, url: m[1]!, pid: Number(m[2]), output: () => text, exited };
}

for (const [way, argv] of Object.entries(WAYS)) {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    test(`${way}: ${signal} drains the request in flight and the server exits 0`, async () => {
      const [command, args] = argv(['--model', fixture.path, '--port', '0', '--batch-delay-ms', '1000']);
      const server = await startedServer(command, args);
      try {
        const pending = postJson(
          `${server.url}/v2/models/${MODEL_NAME}/infer`,
          fp32Request(randomInput(1, 21), 1, { id: 'inflight' }),
        );
        await new Promise((r) => setTimeout(r, 300));
        if (signal === 'SIGTERM') process.kill(server.child.pid!, 'SIGTERM');
        else process.kill(-server.child.pid!, 'SIGINT');
        const reply = await pending.catch((error: unknown) =>
          assert.fail(`the request in flight failed (${String(error)}); the server said:\n${server.output()}`),
        );
        assert.equal(reply.status, 200, reply.text);
        assert.equal(await server.exited, 0, server.output());
        assert.match(
          server.output(),
          new RegExp(`${signal}: no new connections; finishing 1 request\\(s\\) in flight`),
        );
        assert.match(server.output(), /served 1 request\(s\)/);
        // The server itself, not only what was started in front of it, is gone.
        for (let i = 0; i < 50 && alive(server.pid); i++) await new Promise((r) => setTimeout(r, 100));
        assert.equal(alive(server.pid), false, `server pid ${server.pid} still running after ${signal}`);
      } finally {
        if (alive(server.pid)) process.kill(server.pid, 'SIGKILL');
      }
    });
  }
}

test('SIGTERM while a repository is still loading: the server exits 0 without waiting to listen', async () => {
  // Six models: the signal goes when the first has loaded, while the others and the listening are still to come.
  const root = mkdtempSync(join(tmpdir(), 'depthfold-serve-start-'));
  const bytes = fixtureModelBytes();
  for (let i = 0; i < 6; i++) writeFileSync(join(root, `model-${i}.onnx`), bytes);
  const child = spawn(process.execPath, [BIN, '--model-repository', root, '--port', '0'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "loaded" line in 60 s:\n${text}`)), 60_000);
      const read = (d: Buffer) => {
        text += d.toString();
        if (/version 1 loaded/.test(text)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', read);
      child.stderr!.on('data', read);
    });
    process.kill(child.pid!, 'SIGTERM');
    assert.equal(await exited, 0, text);
    assert.match(text, /SIGTERM during start-up, before the server listened; exiting/);
    assert.doesNotMatch(text, /listening on/);
  } finally {
    if (alive(child.pid!)) process.kill(child.pid!, 'SIGKILL');
    rmSync(root, { recursive: true, force: true });
  }
});
