// src/common is shared with a future browser entry: it may import neither a runtime nor node APIs (nor tfjs).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const commonDir = join(dirname(dirname(fileURLToPath(import.meta.url))), 'src', 'common');

test('src/common imports only its own files, @depthfold/core, @depthfold/onnx and zod', () => {
  const allowed = /^(\.\/[a-z-]+\.js|@depthfold\/core|@depthfold\/onnx|zod)$/;
  for (const file of readdirSync(commonDir)) {
    const text = readFileSync(join(commonDir, file), 'utf8');
    const specifiers = [...text.matchAll(/\bfrom\s+'([^']+)'|\bimport\s*\(\s*'([^']+)'/g)].map((m) => m[1] ?? m[2]);
    assert.ok(specifiers.length > 0 || !text.includes('import'), `${file}: imports not recognised`);
    for (const s of specifiers) assert.match(s!, allowed, `${file} imports ${s}`);
  }
});
