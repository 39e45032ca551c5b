// What each part of src may import, read from the sources: src/common neither a runtime nor node APIs (nor tfjs);
// src/web onnxruntime-web but no node API and never onnxruntime-node; src/node never onnxruntime-web.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

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

test('src/common imports only its own files, @depthfold/core, @depthfold/onnx and zod', () => {
  for (const { file, specifier } of imports('common')) {
    assert.match(
      specifier,
      /^(\.\/[a-z-]+\.js|@depthfold\/core|@depthfold\/onnx|zod)$/,
      `${file} imports ${specifier}`,
    );
  }
});

test('src/web imports common, @depthfold/core and onnxruntime-web only: no node API, no onnxruntime-node', () => {
  const found = imports('web');
  for (const { file, specifier } of found) {
    assert.match(
      specifier,
      /^(\.\/[a-z-]+\.js|\.\.\/common\/[a-z-]+\.js|@depthfold\/core|onnxruntime-web(\/wasm|\/webgpu)?)$/,
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
