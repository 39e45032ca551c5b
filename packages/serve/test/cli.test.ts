// `pnpm serve` as a process: graceful shutdown (SIGTERM with a request in flight: the request completes, new
// connections are refused, the process exits 0), SIGINT, --help and bad options.
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { InferenceSession } from 'onnxruntime-node';
import { fixtureModelFile, MODEL_NAME, randomInput } from './fixtures.js';
import { assertLogitsMatch, directLogits, fp32Request, postJson, replyLogits } from './helpers.js';
import { fixtureRepository, inputOf, requestFor, SMALL, WIDE } from './repository-fixtures.js';

const CLI = fileURLToPath(new URL('../src/cli/serve.ts', import.meta.url));
let fixture: Awaited<ReturnType<typeof fixtureModelFile>>;

before(async () => {
  fixture = await fixtureModelFile();
});
after(async () => {
  await fixture.cleanup();
});

interface Running {
  child: ChildProcessWithoutNullStreams;
  url: string;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function run(args: string[]): {
  child: ChildProcessWithoutNullStreams;
  output: () => string;
  exited: Running['exited'];
} {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { stdio: 'pipe' });
  let text = '';
  child.stdout.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr.on('data', (d: Buffer) => (text += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => text, exited };
}

async function start(args: string[]): Promise<Running> {
  const r = run(['--model', fixture.path, '--port', '0', ...args]);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "listening" line in 30 s:\n${r.output()}`)), 30_000);
    const check = (): void => {
      const m = /listening on (http:\/\/[^\s]+)/.exec(r.output());
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    r.child.stdout.on('data', check);
    void r.exited.then(() => reject(new Error(`exited before listening:\n${r.output()}`)));
  });
  return { ...r, url };
}

// A fresh connection (no keep-alive pool), to see whether the server still accepts.
function freshConnection(url: string): Promise<'accepted' | 'refused'> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}/v2/health/live`, { agent: false }, (res) => {
      res.resume();
      resolve('accepted');
    });
    req.on('error', (error: NodeJS.ErrnoException) =>
      error.code === 'ECONNREFUSED' || error.code === 'ECONNRESET' ? resolve('refused') : reject(error),
    );
    req.end();
  });
}

test('SIGTERM: the request in flight completes, new connections are refused, and the process exits 0', async () => {
  // The long batching delay holds the request in the server's queue while the signal arrives.
  const server = await start(['--batch-delay-ms', '1500']);
  const input = randomInput(2, 11);
  const pending = postJson(`${server.url}/v2/models/${MODEL_NAME}/infer`, fp32Request(input, 2, { id: 'inflight' }));
  await new Promise((r) => setTimeout(r, 500));
  server.child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(await freshConnection(server.url), 'refused');
  const reply = await pending;
  assert.equal(reply.status, 200, reply.text);
  assert.equal((reply.json as { id: string }).id, 'inflight');
  const session = await InferenceSession.create(fixture.path);
  assertLogitsMatch(replyLogits(reply), await directLogits(session, input, 2));
  await session.release();
  assert.deepEqual(await server.exited, { code: 0, signal: null });
  assert.match(server.output(), /SIGTERM: no new connections; finishing 1 request\(s\) in flight/);
  assert.match(server.output(), /served 1 request\(s\) in 1 ORT call\(s\)/);
});

test('SIGINT with nothing in flight exits 0 at once', async () => {
  const server = await start(['--no-batching']);
  assert.match(server.output(), /no batching/);
  assert.equal(
    (await postJson(`${server.url}/v2/models/${MODEL_NAME}/infer`, fp32Request(randomInput(1, 12), 1))).status,
    200,
  );
  const t0 = performance.now();
  server.child.kill('SIGINT');
  assert.deepEqual(await server.exited, { code: 0, signal: null });
  assert.ok(performance.now() - t0 < 5000);
});

test('a second signal more than a second after the first exits at once (1); an echo within the second is ignored', async () => {
  const server = await start(['--batch-delay-ms', '4000']);
  const pending = postJson(`${server.url}/v2/models/${MODEL_NAME}/infer`, fp32Request(randomInput(1, 13), 1)).catch(
    () => 'dropped',
  );
  await new Promise((r) => setTimeout(r, 300));
  server.child.kill('SIGTERM');
  server.child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 1300));
  assert.doesNotMatch(server.output(), /again/, 'the echo within a second was ignored');
  server.child.kill('SIGTERM');
  assert.deepEqual(await server.exited, { code: 1, signal: null });
  assert.match(server.output(), /SIGTERM again; exiting without waiting/);
  assert.equal(await pending, 'dropped');
});

test('--model-repository: every model of the folder is served, a corrupt one is reported, SIGTERM exits 0', async () => {
  const repo = await fixtureRepository();
  let running: ChildProcessWithoutNullStreams | undefined;
  try {
    const r = run(['--model-repository', repo.root, '--port', '0', '--grpc-port', '0']);
    running = r.child;
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "listening" line in 60 s:\n${r.output()}`)), 60_000);
      r.child.stdout.on('data', () => {
        const m = /listening on (http:\/\/[^\s]+)/.exec(r.output());
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      void r.exited.then(() => reject(new Error(`exited before listening:\n${r.output()}`)));
    });
    assert.match(r.output(), /2 model version\(s\) loaded, \d+ bytes \(file size x sessions\); model control none/);
    assert.match(r.output(), /broken version 1 failed to load: .*digest stored at export/);
    for (const [name, dims] of [
      [SMALL, [1, 28, 28]],
      [WIDE, [3, 32, 32]],
    ] as const) {
      const size = dims.reduce((a: number, b: number) => a * b, 1);
      const reply = await postJson(`${url}/v2/models/${name}/infer`, requestFor(inputOf(1, size, 1), dims));
      assert.equal(reply.status, 200, reply.text);
    }
    r.child.kill('SIGTERM');
    assert.deepEqual(await r.exited, { code: 0, signal: null });
    assert.match(r.output(), /small version 1: served 1 request\(s\)/);
    assert.match(r.output(), /wide version 1: served 1 request\(s\)/);
  } finally {
    running?.kill('SIGKILL');
    repo.cleanup();
  }
});

test('--help lists the options; bad options and a missing model exit 1 naming the problem', async () => {
  const help = run(['--help']);
  assert.equal((await help.exited).code, 0);
  for (const flag of [
    '--model',
    '--port',
    '--host',
    '--ep',
    '--batch-delay-ms',
    '--max-batch',
    '--max-queue',
    '--max-inflight',
    '--no-batching',
    '--max-body-bytes',
    '--grpc-port',
    '--headers-timeout-ms',
    '--body-timeout-ms',
    '--keep-alive-timeout-ms',
    '--model-repository',
    '--model-control-mode',
    '--load-model',
    '--repository-poll-secs',
    '--max-loaded-models',
    '--max-model-bytes',
    '--max-discard-bytes',
    '--no-verify-integrity',
  ]) {
    assert.ok(help.output().includes(flag), `help mentions ${flag}`);
  }
  assert.match(help.output(), /\(default: "127\.0\.0\.1"\)/);
  const cases: [string[], RegExp][] = [
    [['--model', fixture.path, '--ep', 'tpu'], /ep: expected one of auto, cuda, webgpu, cpu, received "tpu"/],
    [['--model', fixture.path, '--max-batch', '0'], /maxBatch: expected/],
    [['--model', fixture.path, '--bogus'], /Unknown option '--bogus'/],
    [
      ['--port', '0'],
      /model: expected an \.onnx file \(--model\) or a repository folder \(--model-repository\), received nothing/,
    ],
    [['--model-repository', `${fixture.dir}/nowhere`], /ENOENT: no such file or directory, scandir/],
    [
      ['--model', fixture.path, '--model-control-mode', 'auto'],
      /modelControlMode: expected one of none, explicit, poll/,
    ],
    [['--model', `${fixture.dir}/missing.onnx`], /model: expected a readable \.onnx file/],
  ];
  // One at a time: each loads the whole server, and the test machines are small.
  for (const [args, pattern] of cases) {
    const r = run(args);
    assert.equal((await r.exited).code, 1, r.output());
    assert.match(r.output(), pattern);
  }
});
