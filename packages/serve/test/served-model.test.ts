// The served model's sessions start as @depthfold/infer's do (its device order, fallbacks and errors), across the
// worker threads: a device that starts is reported with the devices tried before it, and one that cannot start fails
// with infer's InferDeviceError, built again on the main thread.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createSession, DEVICE_TABLE, InferDeviceError } from '@depthfold/infer';
import { loadServedModel } from '../src/index.js';
import { fixtureModelBytes, fixtureModelFile } from './fixtures.js';

let fixture: Awaited<ReturnType<typeof fixtureModelFile>>;

before(async () => {
  fixture = await fixtureModelFile();
});
after(async () => {
  await fixture.cleanup();
});

test('cpu starts on cpu with nothing tried before it', async () => {
  const model = await loadServedModel(fixture.path, { device: 'cpu', maxInflight: 2 });
  try {
    assert.deepEqual([model.device, model.provider, model.fallbacks], ['cpu', 'cpu', []]);
  } finally {
    await model.close();
  }
});

test('auto lands where createSession lands, with the same fallbacks', async () => {
  const model = await loadServedModel(fixture.path, { device: 'auto' });
  const direct = await createSession(fixtureModelBytes(), 'auto');
  try {
    assert.ok(DEVICE_TABLE.node.auto.includes(model.device), model.device);
    assert.equal(model.device, direct.device);
    assert.equal(model.provider, direct.provider);
    assert.deepEqual(model.fallbacks, direct.fallbacks);
  } finally {
    await model.close();
    await direct.session.release();
  }
});

test("a cuda that cannot start fails with infer's InferDeviceError, its failures and the devices available", async (t) => {
  let model;
  try {
    model = await loadServedModel(fixture.path, { device: 'cuda' });
  } catch (error) {
    assert.ok(error instanceof InferDeviceError, String(error));
    assert.equal(error.device, 'cuda');
    assert.deepEqual(
      error.failures.map((f) => [f.device, f.provider]),
      [['cuda', 'cuda']],
    );
    assert.match(error.failures[0]!.reason, /npm ships onnxruntime-node without its CUDA provider: `pnpm setup:cuda`/);
    assert.ok(error.available.includes('cpu'), error.available.join(', '));
    assert.match(error.message, /^device "cuda" could not start a session\. Tried cuda \(provider cuda\): /);
    return;
  }
  await model.close();
  t.skip('cuda starts on this machine: nothing fails');
});
