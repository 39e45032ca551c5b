// The refactor to topologies changed no byte of what resnet-cifar exports: v3, exported again from its run directory
// with today's code, has the shipped file's integrity digest (the SHA-256 of its graph and weights).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SHIPPED_MODEL } from '@depthfold/core';
import { readModelMetadata } from '@depthfold/onnx';
import { exportModel } from '../src/index.js';

const ROOT = new URL('../../../', import.meta.url);
const RUN = new URL('models/runs/fm-r20-re-100ep/checkpoint.safetensors', ROOT).pathname;
const SHIPPED = new URL(SHIPPED_MODEL, ROOT).pathname;

test("v3 exported again from models/runs/fm-r20-re-100ep has the shipped file's integrity digest", {
  timeout: 120_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'depthfold-reexport-'));
  try {
    const out = join(dir, 'v3-again.onnx');
    const result = await exportModel({ checkpoint: RUN, out, probe: 16 });
    assert.ok(
      result.parity.maxAbsDiff < 1e-4 && result.parity.top1Agree === result.parity.images,
      JSON.stringify(result.parity),
    );
    const shipped = readModelMetadata(new Uint8Array(readFileSync(SHIPPED)), SHIPPED);
    const again = readModelMetadata(new Uint8Array(readFileSync(out)), out);
    assert.equal(again.checkpoint?.sha256, shipped.checkpoint?.sha256, 'the same checkpoint');
    assert.ok(shipped.integrity, 'the shipped model has a digest');
    assert.equal(again.integrity?.sha256, shipped.integrity.sha256, 'the same graph and weights, byte for byte');
    assert.equal(again.formatVersion, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
