// The built package, imported by name through its exports map in a child node that records every ESM and CommonJS
// module it loads (test/module-trace): by default (and through `./node`) the Node entry over onnxruntime-node; under
// `--conditions=browser` (and through `./web`) the web entry over onnxruntime-web's WebAssembly build, which loads
// no node API until `load` and never onnxruntime-node. Neither loads TensorFlow.js; a control run loads tfjs through
// both routes from the train package, so the trace is known to see it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { requirement } from '@depthfold/testing';
import { fixtureModelBytes } from './fixtures.js';
import { encodePng } from '@depthfold/testing';

const packageDir = dirname(dirname(fileURLToPath(import.meta.url)));
const trainDir = join(packageDir, '..', 'train');
const register = join(packageDir, 'test', 'module-trace', 'register.mjs');
const TFJS = /@tensorflow|tfjs/i;
const ORT_NODE = /\/onnxruntime-node\//;
const ORT_WEB = /\/onnxruntime-web\//;
const NODE_API = /^esm node:|^cjs .*\/node_modules\/(fs|fs-extra)\//;
const SHARP = /\/node_modules\/(sharp|@img)\//;
const IMAGES_NODE = /\/images\/dist\/node\//;
const modelDir = mkdtempSync(join(tmpdir(), 'depthfold-model-'));
const model = join(modelDir, 'model.onnx');
const png = join(modelDir, 'image.png');

/** Runs `code` as an ES module in a child node from `cwd` and returns the modules it loaded. */
function trace(
  cwd: string,
  code: string,
  options: { env?: Record<string, string>; conditions?: string[] } = {},
): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'depthfold-trace-'));
  const file = join(dir, 'trace.txt');
  try {
    writeFileSync(file, '');
    const conditions = (options.conditions ?? []).map((c) => `--conditions=${c}`);
    const result = spawnSync(
      process.execPath,
      [...conditions, '--import', register, '--input-type=module', '-e', code],
      {
        cwd,
        env: { ...process.env, ...options.env, DEPTHFOLD_MODULE_TRACE: file },
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    assert.equal(result.status, 0, `child node failed:\n${result.stderr}`);
    return readFileSync(file, 'utf8').split('\n').filter(Boolean);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const loaded = (modules: string[], pattern: RegExp): string[] => modules.filter((m) => pattern.test(m));

// Loads the model on `device`, checks the provider and the devices that fell back, and classifies a zero image.
const classifyCode = (device: string, provider: string, fallbacks: string[] = []): string =>
  [
    '{',
    `const c = await infer.load(new Uint8Array((await import('node:fs')).readFileSync(process.env.MODEL)), { device: '${device}' });`,
    `if (c.info.provider !== '${provider}') throw new Error('provider ' + c.info.provider);`,
    `if (c.info.fallbacks.map((f) => f.device).join() !== '${fallbacks.join()}') throw new Error(JSON.stringify(c.info.fallbacks));`,
    'const [r] = await c.classify(new Uint8Array(90));',
    "if (r.top.length !== 3) throw new Error('no classification');",
    'await c.dispose();',
    '}',
  ].join('\n');

before(() => {
  const tsc = createRequire(join(packageDir, 'package.json')).resolve('typescript/bin/tsc');
  const build = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: packageDir, encoding: 'utf8' });
  assert.equal(build.status, 0, `build failed:\n${build.stdout}${build.stderr}`);
  writeFileSync(model, fixtureModelBytes());
  writeFileSync(png, encodePng(5, 6, 3, new Uint8Array(90).fill(128)));
});
after(() => rmSync(modelDir, { recursive: true, force: true }));

test('the trace sees tfjs when it is loaded, by import and by require (control)', (t) => {
  if (
    !requirement(
      t,
      existsSync(join(trainDir, 'node_modules', '@tensorflow', 'tfjs-core')),
      'packages/train has no @tensorflow/tfjs-core installed (pnpm install)',
    )
  )
    return;
  const imported = trace(trainDir, "await import('@tensorflow/tfjs-core');");
  assert.ok(
    imported.some((m) => m.startsWith('esm ') && TFJS.test(m)),
    'an ESM import of tfjs is recorded',
  );
  const required = trace(
    trainDir,
    "import { createRequire } from 'node:module'; createRequire(process.cwd() + '/x.js')('@tensorflow/tfjs-core');",
  );
  assert.ok(
    required.some((m) => m.startsWith('cjs ') && TFJS.test(m)),
    'a require of tfjs is recorded',
  );
});

test('by default, @depthfold/infer is the Node entry: onnxruntime-node, no onnxruntime-web, no tfjs', () => {
  const code = [
    "const infer = await import('@depthfold/infer');",
    "const node = await import('@depthfold/infer/node');",
    "if (node.load !== infer.load) throw new Error('the root and ./node entries differ');",
    'const c = await infer.load(process.env.MODEL);',
    'const [r] = await c.classify(new Uint8Array(90));',
    "if (r.top.length !== 3) throw new Error('no classification');",
    'await c.dispose();',
  ].join('\n');
  const modules = trace(packageDir, code, { env: { MODEL: model } });
  assert.deepEqual(loaded(modules, TFJS), []);
  assert.deepEqual(loaded(modules, ORT_WEB), []);
  assert.deepEqual(loaded(modules, /\/dist\/web\//), []);
  // The trace saw the built entry (ESM) and onnxruntime-node's files (CommonJS), so the empty lists mean something.
  assert.ok(
    modules.some((m) => m.startsWith('esm ') && m.endsWith('/packages/infer/dist/node/index.js')),
    'the built node entry was traced',
  );
  assert.ok(
    modules.some((m) => m.startsWith('cjs ') && ORT_NODE.test(m)),
    'onnxruntime-node was traced',
  );
  assert.ok(loaded(modules, NODE_API).length > 0, 'node APIs are traced (the Node entry reads files)');
  assert.deepEqual(loaded(modules, SHARP), [], 'sharp is loaded on the first decode, not before');
});

test('the Node entry loads sharp on its first decode of an image file', () => {
  const code = [
    "const infer = await import('@depthfold/infer');",
    'const c = await infer.load(process.env.MODEL);',
    'const [pixels] = await c.logits(new Uint8Array(90).fill(128));',
    'const [file] = await c.logits(process.env.PNG);',
    "if (pixels.join() !== file.join()) throw new Error('the PNG of those pixels classifies otherwise');",
    'await c.dispose();',
  ].join('\n');
  const modules = trace(packageDir, code, { env: { MODEL: model, PNG: png } });
  assert.ok(loaded(modules, SHARP).length > 0, 'sharp was loaded');
  assert.ok(loaded(modules, IMAGES_NODE).length > 0, 'through @depthfold/images/node');
});

test('under the browser condition, @depthfold/infer is the web entry, which imports no runtime and no node API', () => {
  const code = [
    "const infer = await import('@depthfold/infer');",
    "const web = await import('@depthfold/infer/web');",
    "if (web.load !== infer.load) throw new Error('the root and ./web entries differ');",
  ].join('\n');
  const modules = trace(packageDir, code, { conditions: ['browser'] });
  assert.ok(
    modules.some((m) => m.startsWith('esm ') && m.endsWith('/packages/infer/dist/web/index.js')),
    'the built web entry was traced',
  );
  assert.deepEqual(loaded(modules, /\/dist\/node\//), []);
  assert.deepEqual(loaded(modules, ORT_NODE), []);
  assert.deepEqual(loaded(modules, ORT_WEB), [], 'a runtime is imported on load, for the device it runs');
  assert.deepEqual(loaded(modules, NODE_API), []);
  assert.deepEqual(loaded(modules, TFJS), []);
  assert.deepEqual(loaded(modules, SHARP), [], 'never sharp');
  assert.deepEqual(loaded(modules, IMAGES_NODE), [], "never @depthfold/images' Node entry");
  assert.ok(
    modules.some((m) => m.startsWith('esm ') && m.endsWith('/packages/images/dist/index.js')),
    "@depthfold/images' browser-safe entry was traced",
  );
});

test('the web entry runs WebAssembly on onnxruntime-web/wasm alone; auto records why WebGPU did not start', () => {
  const code = [
    "const infer = await import('@depthfold/infer');",
    classifyCode('wasm', 'wasm'),
    classifyCode('auto', 'wasm', ['webgpu']),
  ].join('\n');
  const modules = trace(packageDir, code, { env: { MODEL: model }, conditions: ['browser'] });
  const ort = loaded(modules, ORT_WEB).filter((m) => m.startsWith('esm '));
  assert.ok(
    ort.some((m) => /\/onnxruntime-web\/dist\/ort\.wasm\.[\w.]*mjs$/.test(m)),
    `the WebAssembly build was loaded: ${ort.join(', ')}`,
  );
  // Node has no navigator.gpu, so auto fails WebGPU before importing its build.
  assert.deepEqual(
    ort.filter((m) => /webgpu|\/ort\.(all\.)?(bundle\.)?min\.mjs$/.test(m)),
    [],
    'no other ORT build',
  );
  assert.deepEqual(loaded(modules, ORT_NODE), []);
  assert.deepEqual(loaded(modules, TFJS), []);
});
