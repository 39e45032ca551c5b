// The device table and its resolution: cpu works, auto tries the table's order and records each failure, cuda and
// webgpu either start or fail naming the devices available, and unknown devices list the allowed ones.
// cuda and webgpu are not assumed either way: what this machine has decides which branch a test checks.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEVICE_TABLE, DEVICES, InferDeviceError, InferInputError, load, type Device } from '../src/index.js';
import { resolveDevice } from '../src/common/index.js';
import { fixtureModelBytes } from './fixtures.js';
import { failsWith, randomImage } from './helpers.js';

const bytes = fixtureModelBytes();
const node = DEVICE_TABLE.node;

test('the device table is frozen, and every provider is one of its devices', () => {
  assert.ok(Object.isFrozen(DEVICE_TABLE));
  for (const row of Object.values(DEVICE_TABLE)) {
    assert.ok(Object.isFrozen(row) && Object.isFrozen(row.auto) && Object.isFrozen(row.providers));
    for (const d of row.auto) assert.ok(row.providers[d], `auto device ${d} has a provider`);
    assert.ok(DEVICES.includes(row.default));
  }
  assert.deepEqual(node.auto, ['cuda', 'webgpu', 'cpu']);
});

test('resolveDevice maps devices through the table for each platform', () => {
  assert.deepEqual(resolveDevice('cpu', 'node').candidates, [{ device: 'cpu', provider: 'cpu' }]);
  assert.deepEqual(resolveDevice(undefined, 'node'), {
    device: 'cpu',
    candidates: [{ device: 'cpu', provider: 'cpu' }],
  });
  assert.deepEqual(
    resolveDevice('auto', 'node').candidates.map((c) => c.provider),
    ['cuda', 'webgpu', 'cpu'],
  );
  assert.deepEqual(
    resolveDevice('auto', 'web').candidates.map((c) => c.provider),
    ['webgpu', 'wasm'],
  );
  assert.throws(
    () => resolveDevice('cuda', 'web'),
    failsWith(InferInputError, /devices available in web: "auto", "webgpu", "cpu", "wasm"/),
  );
});

test('cpu works', async () => {
  const c = await load(bytes, { device: 'cpu' });
  try {
    assert.equal(c.info.device, 'cpu');
    assert.equal(c.info.provider, 'cpu');
    assert.equal((await c.classify(randomImage(1)))[0]!.top.length, 3);
  } finally {
    await c.dispose();
  }
});

test('auto takes the first device of the table that starts and records why the ones before failed', async () => {
  const c = await load(bytes, { device: 'auto' });
  try {
    const { device, provider, fallbacks } = c.info;
    assert.ok(node.auto.includes(device), `auto resolved to ${device}`);
    assert.equal(provider, node.providers[device]);
    assert.deepEqual(
      fallbacks.map((f) => f.device),
      node.auto.slice(0, node.auto.indexOf(device)),
    );
    for (const f of fallbacks) {
      assert.equal(f.provider, node.providers[f.device]);
      assert.ok(f.reason.length > 0, `fallback ${f.device} has a reason`);
    }
    assert.equal((await c.logits(randomImage(2)))[0]!.length, 10);
  } finally {
    await c.dispose();
  }
});

for (const device of ['cuda', 'webgpu'] as const) {
  test(`${device} either starts on ${device} or fails naming the devices available`, async () => {
    let c;
    try {
      c = await load(bytes, { device });
    } catch (error) {
      assert.ok(error instanceof InferDeviceError, `expected an InferDeviceError, got ${String(error)}`);
      assert.equal(error.device, device);
      assert.deepEqual(
        error.failures.map((f) => f.device),
        [device],
      );
      assert.ok(error.failures[0]!.reason.length > 0);
      assert.ok(
        error.available.includes('cpu') && error.available.includes('auto'),
        `available: ${error.available.join(', ')}`,
      );
      assert.ok(!error.available.includes(device));
      assert.match(
        error.message,
        new RegExp(
          `^device "${device}" could not start a session\\. Tried ${device} \\(provider ${device}\\): .+\\. Other devices available here \\(not tried\\): "auto", .*"cpu"`,
        ),
      );
      return;
    }
    try {
      assert.equal(c.info.device, device);
      assert.deepEqual(c.info.fallbacks, []);
    } finally {
      await c.dispose();
    }
  });
}

test('an unknown device lists the allowed ones', async () => {
  for (const device of ['gpu', 'CPU', '', 0]) {
    await assert.rejects(
      load(bytes, { device: device as Device }),
      failsWith(InferInputError, /^device: expected one of "auto", "cuda", "webgpu", "cpu", "wasm", received /),
    );
  }
});

test('a device of another platform lists the devices of this one', async () => {
  await assert.rejects(
    load(bytes, { device: 'wasm' }),
    failsWith(
      InferInputError,
      /^device: expected one of the devices available in node: "auto", "cuda", "webgpu", "cpu", received "wasm"$/,
    ),
  );
});

test('a cuda that cannot start says how to get the CUDA provider, in auto and when asked for', async (t) => {
  let c;
  try {
    c = await load(bytes, { device: 'cuda' });
  } catch (error) {
    assert.ok(error instanceof InferDeviceError);
    assert.match(
      error.failures[0]!.reason,
      /npm ships onnxruntime-node without its CUDA provider: `pnpm setup:cuda` fetches it/,
    );
    const auto = await load(bytes, { device: 'auto' });
    try {
      assert.equal(auto.info.fallbacks[0]!.device, 'cuda', 'auto tries cuda first and records its failure');
      assert.equal(auto.info.fallbacks[0]!.reason, error.failures[0]!.reason);
      assert.notEqual(auto.info.device, 'cuda');
    } finally {
      await auto.dispose();
    }
    return;
  }
  await c.dispose();
  t.skip('cuda starts on this machine: nothing falls back');
});
