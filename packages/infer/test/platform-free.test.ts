// What each part of src may import, read from the sources: src/common neither a runtime nor node APIs (nor tfjs, nor
// sharp); src/web onnxruntime-web but no node API, never onnxruntime-node, sharp or @depthfold/images/node; src/node
// never onnxruntime-web. Then the web entry bundled for browsers by esbuild: no node: import, no sharp.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const srcDir = join(dirname(dirname(fileURLToPath(import.meta.url))), 'src');

/** Every import specifier of the files of one folder of src, with the file it is in. */
function imports(folder: string): { file: string; specifier: string }[] {
  const dir = join(srcDir, folder);
  return readdirSync(dir).flatMap((file) => {
    const text = readFileSync(join(dir, file), 'utf8');
    const specifiers = [...text.matchAll(/\bfrom\s+'([^']+)'|\bimport\s*\(\s*'([^']+)'/g)].map((m) => m[1] ?? m[2]);
    assert.ok(specifiers.length > 0 || !text.includes('import'), `${folder}/${file}: imports not recognised`);
    return specifiers.map((specifier) => ({ file: `${folder}/${file}`, specifier: specifier! }));
  });
}

test("src/common imports only its own files, @depthfold/core, @depthfold/onnx, @depthfold/images' main entry, zod", () => {
  for (const { file, specifier } of imports('common')) {
    assert.match(
      specifier,
      /^(\.\/[a-z-]+\.js|@depthfold\/core|@depthfold\/onnx|@depthfold\/images|zod)$/,
      `${file} imports ${specifier}`,
    );
  }
});

test("src/web imports common, @depthfold/core, @depthfold/images' main entry and onnxruntime-web only", () => {
  const found = imports('web');
  for (const { file, specifier } of found) {
    assert.match(
      specifier,
      /^(\.\/[a-z-]+\.js|\.\.\/common\/[a-z-]+\.js|@depthfold\/core|@depthfold\/images|onnxruntime-web(\/wasm|\/webgpu)?)$/,
      `${file} imports ${specifier}`,
    );
  }
  assert.ok(
    found.some((i) => i.specifier === 'onnxruntime-web/wasm') &&
      found.some((i) => i.specifier === 'onnxruntime-web/webgpu'),
  );
});

test('src/node never imports onnxruntime-web', () => {
  const found = imports('node');
  assert.ok(found.some((i) => i.specifier === 'onnxruntime-node'));
  for (const { file, specifier } of found)
    assert.doesNotMatch(specifier, /onnxruntime-web|\/web\//, `${file} imports ${specifier}`);
});

test('src/node decodes through @depthfold/images/node, never sharp itself (it is loaded there, on first use)', () => {
  const found = imports('node');
  assert.ok(found.some((i) => i.specifier === '@depthfold/images/node'));
  for (const { file, specifier } of found) assert.notEqual(specifier, 'sharp', `${file} imports sharp`);
});

test('the web entry bundles for browsers without a node: import or sharp, onnxruntime-web aside', async () => {
  const result = await build({
    entryPoints: [join(srcDir, 'web', 'index.ts')],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    metafile: true,
    // ORT's builds are imported on load, per device; what they hold is onnxruntime-web's business.
    external: ['onnxruntime-web', 'onnxruntime-web/*'],
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]!.text;
  assert.doesNotMatch(code, /from ["']node:|import\(["']node:|require\(["']|["']sharp["']/);
  const inputs = Object.keys(result.metafile.inputs);
  assert.ok(
    inputs.some((i) => /packages\/images\/(src|dist)\/preprocess\.(ts|js)$/.test(i)),
    `@depthfold/images' preprocessing is bundled: ${inputs.filter((i) => i.includes('images')).join(', ')}`,
  );
  assert.deepEqual(
    inputs.filter((i) => /images\/(src|dist)\/node\/|\/sharp\//.test(i)),
    [],
    'no @depthfold/images/node, no sharp',
  );
});
