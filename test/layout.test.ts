// The layout tells the truth: the workspace's production dependency graph is the one whose arrows docs/architecture.md
// draws; the production closures of @depthfold/infer and @depthfold/serve (package.json dependencies, walked through
// the workspace and node_modules as Node resolves them) hold no @tensorflow/* package; and `pnpm report` (the built
// CLI, on a run directory) loads no TensorFlow.js. Controls show the walk and the trace do see tfjs where it is.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const PACKAGES = join(ROOT, 'packages');
const TFJS = /^@tensorflow\//;

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

const readManifest = (dir: string): Manifest => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;

/** The workspace's packages by name: their directories. */
const workspace = new Map(
  readdirSync(PACKAGES)
    .filter((d) => existsSync(join(PACKAGES, d, 'package.json')))
    .map((d) => [readManifest(join(PACKAGES, d)).name, join(PACKAGES, d)] as const),
);

/** Where Node finds `name` from `dir`: `node_modules/<name>` in `dir` or an ancestor (pnpm's siblings included). */
function resolvePackage(name: string, dir: string): string | undefined {
  for (let d = dir; ; d = dirname(d)) {
    if (basename(d) !== 'node_modules') {
      const candidate = join(d, 'node_modules', name);
      if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
    }
    if (dirname(d) === d) return undefined;
  }
}

/**
 * Every package a production install of `name` brings: `dependencies` and `optionalDependencies`, recursively
 * (devDependencies are not installed for a dependent). An optional dependency that is not installed (tfjs-node
 * offline) still counts, since it is what an install tries to bring; a required one that cannot be found fails.
 */
function productionClosure(name: string): Set<string> {
  const seen = new Set<string>([name]);
  const queue: string[] = [workspace.get(name) ?? assert.fail(`${name} is not a workspace package`)];
  while (queue.length) {
    const dir = queue.pop()!;
    const manifest = readManifest(dir);
    const deps = { ...manifest.dependencies, ...manifest.optionalDependencies };
    for (const dep of Object.keys(deps)) {
      if (seen.has(dep)) continue;
      seen.add(dep);
      const found = resolvePackage(dep, dir);
      if (found) queue.push(found);
      else if (!(dep in (manifest.optionalDependencies ?? {})))
        assert.fail(`${manifest.name} depends on ${dep}, which is not installed`);
    }
  }
  seen.delete(name);
  return seen;
}

test('the walk finds @tensorflow/* in the closure of @depthfold/train (control)', () => {
  const closure = [...productionClosure('@depthfold/train')];
  assert.ok(closure.includes('@tensorflow/tfjs-core'), closure.join(', '));
  assert.ok(closure.includes('@depthfold/core'), 'workspace dependencies are walked');
});

for (const name of [
  '@depthfold/infer',
  '@depthfold/serve',
  '@depthfold/onnx',
  '@depthfold/core',
  '@depthfold/report',
]) {
  test(`the production dependency closure of ${name} holds no @tensorflow/* package`, () => {
    const closure = [...productionClosure(name)];
    assert.deepEqual(
      closure.filter((d) => TFJS.test(d)),
      [],
      `${name} brings ${closure.join(', ')}`,
    );
  });
}

test('@depthfold/onnx depends on @depthfold/core and protobufjs alone', () => {
  assert.deepEqual(Object.keys(readManifest(workspace.get('@depthfold/onnx')!).dependencies ?? {}).sort(), [
    '@depthfold/core',
    'protobufjs',
  ]);
});

/** `a -> b` for every workspace package a that lists workspace package b in its production dependencies. */
function manifestEdges(): Set<string> {
  const edges = new Set<string>();
  for (const [name, dir] of workspace) {
    const manifest = readManifest(dir);
    for (const dep of Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies })) {
      if (workspace.has(dep)) edges.add(`${name} -> ${dep}`);
    }
  }
  return edges;
}

/** docs/architecture.md's arrows: `core <- onnx <- infer; a, b <- c` means onnx depends on core, c on a and on b. */
function drawnEdges(): Set<string> {
  const page = readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8');
  const match = /Dependencies point one way \(production `dependencies`\): ([^.]+)\./.exec(page.replace(/\s+/g, ' '));
  assert.ok(
    match,
    'docs/architecture.md states the dependency arrows ("Dependencies point one way (production `dependencies`): ...")',
  );
  const edges = new Set<string>();
  for (const chain of match[1]!.split(';')) {
    const links = chain.split('<-').map((part) => part.split(',').map((s) => `@depthfold/${s.trim()}`));
    for (let i = 1; i < links.length; i++) {
      for (const from of links[i]!) for (const to of links[i - 1]!) edges.add(`${from} -> ${to}`);
    }
  }
  return edges;
}

/** Every `a -> c` reachable through `edges`. */
function transitive(edges: Set<string>): string[] {
  const next = new Map<string, string[]>();
  for (const e of edges) {
    const [a, b] = e.split(' -> ') as [string, string];
    next.set(a, [...(next.get(a) ?? []), b]);
  }
  const out = new Set<string>();
  for (const start of next.keys()) {
    const stack = [...next.get(start)!];
    while (stack.length) {
      const n = stack.pop()!;
      if (out.has(`${start} -> ${n}`)) continue;
      out.add(`${start} -> ${n}`);
      stack.push(...(next.get(n) ?? []));
    }
  }
  return [...out].sort();
}

test("docs/architecture.md's arrows are the manifests' (same reachability) and name only workspace packages", () => {
  const drawn = drawnEdges();
  for (const e of drawn)
    for (const name of e.split(' -> '))
      assert.ok(workspace.has(name), `docs/architecture.md names ${name}, which is not a package`);
  assert.deepEqual(transitive(drawn), transitive(manifestEdges()));
});

/** Runs `args` in a child node that records every module it loads (infer's module trace), from `cwd`. */
function trace(cwd: string, args: string[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'depthfold-layout-trace-'));
  const file = join(dir, 'trace.txt');
  try {
    writeFileSync(file, '');
    const register = join(PACKAGES, 'infer', 'test', 'module-trace', 'register.mjs');
    const result = spawnSync(process.execPath, ['--import', register, ...args], {
      cwd,
      env: { ...process.env, DEPTHFOLD_MODULE_TRACE: file },
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.equal(result.status, 0, `child node failed:\n${result.stdout}${result.stderr}`);
    return readFileSync(file, 'utf8').split('\n').filter(Boolean);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const TFJS_MODULE = /@tensorflow|tfjs/i;

test('the module trace sees tfjs when @depthfold/train is imported (control)', () => {
  const modules = trace(join(PACKAGES, 'train'), ['--input-type=module', '-e', "await import('@depthfold/train');"]);
  assert.ok(
    modules.some((m) => TFJS_MODULE.test(m)),
    'importing the trainer loads tfjs',
  );
});

test('pnpm report (the built CLI) writes a report and loads no tfjs', () => {
  const work = mkdtempSync(join(tmpdir(), 'depthfold-layout-report-'));
  try {
    const run = join(work, 'r');
    mkdirSync(run);
    writeFileSync(
      join(run, 'config.json'),
      JSON.stringify({ name: 'r', depth: 8, survivalRule: 'linear', survivalProb: 0.5, epochs: 1 }),
    );
    writeFileSync(
      join(run, 'metrics.jsonl'),
      `${JSON.stringify({ epoch: 1, trainLoss: 2, testError: 0.5, seconds: 1, imagesPerSecond: 10 })}\n`,
    );
    const out = join(work, 'report');
    const modules = trace(ROOT, [join(PACKAGES, 'report', 'dist', 'cli', 'report.js'), run, '--out', out]);
    assert.ok(existsSync(join(out, 'index.html')), 'the report was written');
    assert.ok(
      modules.some((m) => /\/vega-lite\//.test(m)),
      'the trace saw the report render its charts',
    );
    assert.deepEqual(
      modules.filter((m) => TFJS_MODULE.test(m)),
      [],
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

/** The code of a TypeScript file without its comments (prose may name a family; code may not). */
function codeOf(path: string): string {
  return readFileSync(path, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

test('what builds, costs, folds, trains and writes a network names no family: it reads the topology', async () => {
  const { familyNames, networkNames } = await import('@depthfold/core');
  const readers = [
    'core/src/topology.ts',
    'core/src/parameters.ts',
    'onnx/src/fold.ts',
    'onnx/src/graph.ts',
    'train/src/forward.ts',
    'train/src/network.ts',
    'train/src/train-step.ts',
  ];
  // Family and network names, the first format's family name, and the parameter names the families choose.
  const names = [...familyNames(), 'resnet-6n+2', ...networkNames()].map((n) => n.replace(/[.+]/g, '\\$&'));
  const familyWords = new RegExp(
    `['"\`](${names.join('|')})['"\`]|\\b(stage\\d|stem\\.|\\.conv\\d|\\.bn\\d|proj_bn|blocksPerStage|6n\\+2)`,
  );
  for (const file of readers) {
    const found = familyWords.exec(codeOf(join(PACKAGES, file)));
    assert.equal(found?.[0], undefined, `${file} names a family's ${found?.[0]}`);
  }
  // Control: the family's own file does name them.
  assert.match(codeOf(join(PACKAGES, 'core/src/families/resnet-imagenet.ts')), familyWords);
});

test("train's ops name no backend: a backend's training kernels are registered per backend (kernels/backend-kernels.ts)", () => {
  for (const file of ['kernels/conv2d.ts', 'kernels/relu.ts', 'kernels/batch-norm.ts', 'optimizer.ts', 'forward.ts']) {
    const found = /getBackend\(\)|onednn|ONEDNN|'wasm'|OnednnKernel/.exec(codeOf(join(PACKAGES, 'train', 'src', file)));
    assert.equal(found?.[0], undefined, `train/src/${file} branches on a backend: ${found?.[0]}`);
  }
});
