// The built package, imported by name through its exports map, loads and classifies without ever loading
// TensorFlow.js: a child node records every ESM and CommonJS module it loads (test/module-trace). A control run
// loads tfjs through both routes from the train package, so the trace is known to see it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fixtureModelBytes } from './fixtures.js';

const packageDir = dirname(dirname(fileURLToPath(import.meta.url)));
const trainDir = join(packageDir, '..', 'train');
const register = join(packageDir, 'test', 'module-trace', 'register.mjs');
const TFJS = /@tensorflow|tfjs/i;

/** Runs `code` as an ES module in a child node from `cwd` and returns the modules it loaded. */
function trace(cwd: string, code: string, env: Record<string, string> = {}): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'depthfold-trace-'));
  const file = join(dir, 'trace.txt');
  try {
    writeFileSync(file, '');
    const result = spawnSync(process.execPath, ['--import', register, '--input-type=module', '-e', code], {
      cwd,
      env: { ...process.env, ...env, DEPTHFOLD_MODULE_TRACE: file },
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.equal(result.status, 0, `child node failed:\n${result.stderr}`);
    return readFileSync(file, 'utf8').split('\n').filter(Boolean);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

before(() => {
  const tsc = createRequire(join(packageDir, 'package.json')).resolve('typescript/bin/tsc');
  const build = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: packageDir, encoding: 'utf8' });
  assert.equal(build.status, 0, `build failed:\n${build.stdout}${build.stderr}`);
});

test('the trace sees tfjs when it is loaded, by import and by require (control)', (t) => {
  if (!existsSync(join(trainDir, 'node_modules', '@tensorflow', 'tfjs-core'))) {
    t.skip('packages/train has no @tensorflow/tfjs-core installed');
    return;
  }
  const imported = trace(trainDir, "await import('@tensorflow/tfjs-core');");
  assert.ok(imported.some((m) => m.startsWith('esm ') && TFJS.test(m)), 'an ESM import of tfjs is recorded');
  const required = trace(trainDir, "import { createRequire } from 'node:module'; createRequire(process.cwd() + '/x.js')('@tensorflow/tfjs-core');");
  assert.ok(required.some((m) => m.startsWith('cjs ') && TFJS.test(m)), 'a require of tfjs is recorded');
});

test('importing @depthfold/infer and classifying loads no tfjs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'depthfold-model-'));
  try {
    const model = join(dir, 'model.onnx');
    writeFileSync(model, fixtureModelBytes());
    const code = [
      "const infer = await import('@depthfold/infer');",
      "const node = await import('@depthfold/infer/node');",
      "if (node.load !== infer.load) throw new Error('the root and ./node entries differ');",
      'const c = await infer.load(process.env.MODEL);',
      'const [r] = await c.classify(new Uint8Array(90));',
      "if (r.top.length !== 3) throw new Error('no classification');",
      'await c.dispose();',
    ].join('\n');
    const modules = trace(packageDir, code, { MODEL: model });
    assert.deepEqual(modules.filter((m) => TFJS.test(m)), []);
    // The trace saw the built entry (ESM) and onnxruntime-node's files (CommonJS), so an empty list means something.
    assert.ok(modules.some((m) => m.startsWith('esm ') && m.endsWith('/packages/infer/dist/node/index.js')), 'the built node entry was traced');
    assert.ok(modules.some((m) => m.startsWith('cjs ') && m.includes('onnxruntime-node')), 'onnxruntime-node was traced');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
