// The model repository over HTTP: a folder of three models of two sizes, one corrupt, in Triton's layout and as a
// lone .onnx file. The index lists each with its state and reason; the corrupt one never stops the others; under a
// steady load, a new version takes over, an unload drains its requests in flight and a load brings a model back,
// without one failed request; the model control modes and the memory budget; each new route's error matrix.
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { ModelRepository, startServer } from '../src/index.js';
import { assertError, call, postJson, type Reply } from './helpers.js';
import {
  addVersion,
  BROKEN,
  fixtureRepository,
  inputOf,
  requestFor,
  SMALL,
  SMALL_SIZE,
  smallCheckpoint,
  WIDE,
  WIDE_SIZE,
} from './repository-fixtures.js';

const SMALL_DIMS = [1, 28, 28];
const WIDE_DIMS = [3, 32, 32];
let repo: Awaited<ReturnType<typeof fixtureRepository>>;

before(async () => {
  repo = await fixtureRepository();
});
after(() => repo.cleanup());

interface IndexEntry {
  name: string;
  version?: string;
  state: string;
  reason: string;
}

const index = async (url: string, body: unknown = {}): Promise<IndexEntry[]> => {
  const reply = await postJson(`${url}/v2/repository/index`, body);
  assert.equal(reply.status, 200, reply.text);
  return reply.json as IndexEntry[];
};

async function direct(path: string, data: Float32Array, dims: readonly number[]): Promise<Float32Array> {
  const session = await InferenceSession.create(path);
  const size = dims.reduce((a, b) => a * b, 1);
  const out = await session.run({ input: new Tensor('float32', data, [data.length / size, ...dims]) });
  await session.release();
  return out.logits!.data as Float32Array;
}

const logitsOf = (reply: Reply): number[] => (reply.json as { outputs: { data: number[] }[] }).outputs[0]!.data;

function assertClose(actual: readonly number[], expected: Float32Array): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) < 1e-4, `logit ${i}: ${v} vs ${expected[i]}`));
}

test('none: three models of two sizes, one corrupt; the index gives each its state and reason, the others serve', async () => {
  const repository = await ModelRepository.open({ root: repo.root, model: { batchDelayMs: 1 } });
  const server = await startServer(repository, { port: 0 });
  try {
    const entries = await index(server.url);
    assert.deepEqual(
      entries.map((e) => [e.name, e.version, e.state]),
      [
        [BROKEN, '1', 'UNAVAILABLE'],
        [SMALL, '1', 'READY'],
        [WIDE, '1', 'READY'],
      ],
    );
    assert.match(entries[0]!.reason, /integrity\.sha256: expected [0-9a-f]{64}, the digest stored at export/);
    assert.deepEqual(
      (await index(server.url, { ready: true })).map((e) => e.name),
      [SMALL, WIDE],
    );
    // Each size answers with the logits ORT gives for its own file.
    const small = inputOf(2, SMALL_SIZE, 1);
    const wide = inputOf(3, WIDE_SIZE, 2);
    const a = await postJson(`${server.url}/v2/models/${SMALL}/infer`, requestFor(small, SMALL_DIMS));
    const b = await postJson(`${server.url}/v2/models/${WIDE}/versions/1/infer`, requestFor(wide, WIDE_DIMS));
    assert.equal(a.status, 200, a.text);
    assert.equal(b.status, 200, b.text);
    assertClose(logitsOf(a), await direct(join(repo.root, SMALL, '1', 'model.onnx'), small, SMALL_DIMS));
    assertClose(logitsOf(b), await direct(join(repo.root, `${WIDE}.onnx`), wide, WIDE_DIMS));
    // A request of one model's size to the other is refused by name.
    assertError(
      await postJson(`${server.url}/v2/models/${WIDE}/infer`, requestFor(small, SMALL_DIMS)),
      400,
      /inputs\[0\]\.shape: expected \[N, 3, 32, 32\]/,
    );
    // The corrupt model is named with its reason; the server is ready all the same.
    assertError(
      await postJson(`${server.url}/v2/models/${BROKEN}/infer`, requestFor(small, SMALL_DIMS)),
      404,
      /model "broken" not found: it is not loaded \(.*digest stored at export.*\); this server serves "small", "wide"/,
    );
    assertError(await call(`${server.url}/v2/models/${BROKEN}/config`), 404, /not loaded/);
    assert.equal((await call(`${server.url}/v2/health/ready`)).status, 200);
    // Metadata of each: its versions and its own input.
    const meta = (await call(`${server.url}/v2/models/${WIDE}`)).json as {
      versions: string[];
      inputs: { shape: number[] }[];
    };
    assert.deepEqual(meta.versions, ['1']);
    assert.deepEqual(meta.inputs[0]!.shape, [-1, 3, 32, 32]);
    // Statistics of every model, each its own.
    const stats = (await call(`${server.url}/v2/models/stats`)).json as {
      model_stats: { name: string; version: string; inference_count: number }[];
    };
    assert.deepEqual(
      stats.model_stats.map((s) => [s.name, s.version, s.inference_count]),
      [
        [SMALL, '1', 2],
        [WIDE, '1', 3],
      ],
    );
    // Model control is off in mode none: load and unload say so, and nothing changes.
    for (const action of ['load', 'unload'])
      assertError(
        await postJson(`${server.url}/v2/repository/models/${SMALL}/${action}`, {}),
        400,
        /model control is disabled \(--model-control-mode none\); load and unload need --model-control-mode explicit/,
      );
    assert.equal((await postJson(`${server.url}/v2/models/${SMALL}/infer`, requestFor(small, SMALL_DIMS))).status, 200);
  } finally {
    await server.close();
  }
});

test('the configuration: Triton JSON of what is served, config.pbtxt values for a Triton model, defaults for a file', async () => {
  const repository = await ModelRepository.open({ root: repo.root, model: { maxBatch: 16, batchDelayMs: 3 } });
  const server = await startServer(repository, { port: 0 });
  try {
    const small = await call(`${server.url}/v2/models/${SMALL}/config`);
    assert.equal(small.status, 200, small.text);
    assert.deepEqual(small.json, {
      name: SMALL,
      platform: 'onnxruntime_onnx',
      backend: 'onnxruntime',
      version_policy: { latest: { num_versions: 1 } },
      // config.pbtxt's, not the server's default of 16 and 3 ms.
      max_batch_size: 8,
      input: [
        {
          name: 'input',
          data_type: 'TYPE_FP32',
          format: 'FORMAT_NONE',
          dims: [1, 28, 28],
          is_shape_tensor: false,
          allow_ragged_batch: false,
          optional: false,
        },
      ],
      output: [
        { name: 'logits', data_type: 'TYPE_FP32', dims: [10], label_filename: 'labels.txt', is_shape_tensor: false },
      ],
      dynamic_batching: { preferred_batch_size: [], max_queue_delay_microseconds: 2000, preserve_ordering: false },
      instance_group: [{ name: `${SMALL}_0`, kind: 'KIND_CPU', count: 1, gpus: [] }],
      default_model_filename: 'model.onnx',
      // Triton's free-form parameters: the input's other forms (docs/serving.md, "Images").
      parameters: {
        depthfold_input_datatypes: { string_value: 'FP32,UINT8,BYTES' },
        depthfold_image_formats: { string_value: 'png,jpeg,webp,gif,tiff' },
        depthfold_max_image_pixels: { string_value: '16777216' },
        depthfold_preprocessing: {
          string_value:
            '{"resize":"exact","interpolation":"bilinear","cropFraction":1,"colour":"grey","background":[0,0,0]}',
        },
      },
    });
    assert.deepEqual((await call(`${server.url}/v2/models/${SMALL}/versions/1/config`)).json, small.json);
    // The batch limit in the config is the one requests meet.
    assertError(
      await postJson(`${server.url}/v2/models/${SMALL}/infer`, requestFor(inputOf(9, SMALL_SIZE, 3), SMALL_DIMS)),
      400,
      /N from 1 to 8/,
    );
    const wide = (await call(`${server.url}/v2/models/${WIDE}/config`)).json as Record<string, unknown>;
    assert.equal(wide.max_batch_size, 16);
    assert.deepEqual(wide.dynamic_batching, {
      preferred_batch_size: [],
      max_queue_delay_microseconds: 3000,
      preserve_ordering: false,
    });
    assert.equal(wide.default_model_filename, 'wide.onnx');
    assert.deepEqual((wide.output as { label_filename: string }[])[0]!.label_filename, '');
    assertError(
      await call(`${server.url}/v2/models/${SMALL}/versions/2/config`),
      404,
      /has no version "2" \(versions: "1"\)/,
    );
    assertError(await call(`${server.url}/v2/models/nope/config`), 404, /model "nope" not found/);
    assertError(await call(`${server.url}/v2/models/${SMALL}/config`, { method: 'POST' }), 405, /not allowed/);
  } finally {
    await server.close();
  }
});

/** Requests sent in `loops` closed loops until stopped, with every status and version seen. */
function steadyLoad(url: string, body: unknown, loops: number) {
  const replies: { status: number; version: string | undefined; text: string }[] = [];
  let stopping = false;
  let inflight = 0;
  const run = async (): Promise<void> => {
    while (!stopping) {
      inflight++;
      const reply = await postJson(url, body).finally(() => inflight--);
      replies.push({
        status: reply.status,
        version: (reply.json as { model_version?: string } | undefined)?.model_version,
        text: reply.text,
      });
    }
  };
  const done = Promise.all(Array.from({ length: loops }, run));
  return {
    replies,
    get inflight() {
      return inflight;
    },
    stop: async () => {
      stopping = true;
      await done;
      return replies;
    },
  };
}

test('explicit, under load: a new version takes over, an unload drains, a load comes back, and no request fails', async () => {
  const repository = await ModelRepository.open({
    root: repo.root,
    controlMode: 'explicit',
    loadModels: [SMALL, WIDE],
    // A long batching delay keeps requests queued when the unload arrives.
    model: { batchDelayMs: 40 },
  });
  const server = await startServer(repository, { port: 0 });
  const control = (model: string, action: 'load' | 'unload'): Promise<Reply> =>
    postJson(`${server.url}/v2/repository/models/${model}/${action}`, {});
  try {
    const entries = await index(server.url);
    assert.deepEqual(
      entries.map((e) => [e.name, e.state]),
      [
        [BROKEN, 'UNAVAILABLE'],
        [SMALL, 'READY'],
        [WIDE, 'READY'],
      ],
    );
    assert.equal(entries[0]!.reason, 'not loaded');
    const smallLoad = steadyLoad(
      `${server.url}/v2/models/${SMALL}/infer`,
      requestFor(inputOf(1, SMALL_SIZE, 4), SMALL_DIMS),
      4,
    );
    const wideLoad = steadyLoad(
      `${server.url}/v2/models/${WIDE}/infer`,
      requestFor(inputOf(1, WIDE_SIZE, 5), WIDE_DIMS),
      4,
    );
    await new Promise((r) => setTimeout(r, 300));

    // Version 2 of small appears; its load switches every unversioned request over at once.
    await addVersion(repo.root, SMALL, smallCheckpoint(123), '2');
    const loaded = await control(SMALL, 'load');
    assert.equal(loaded.status, 200, loaded.text);
    const switched = smallLoad.replies.length;
    assert.deepEqual(
      (await index(server.url)).filter((e) => e.name === SMALL).map((e) => [e.version, e.state]),
      [['2', 'READY']],
      "Triton's default policy serves the latest version only",
    );

    // Unloading wide while requests wait in its queue: the load on it stops sending, and every request it had
    // sent is answered 200 before the model goes.
    await new Promise((r) => setTimeout(r, 20));
    const inflightAtUnload = wideLoad.inflight;
    assert.ok(inflightAtUnload > 0, 'requests were in flight when the unload began');
    const [wideReplies, unloaded] = await Promise.all([wideLoad.stop(), control(WIDE, 'unload')]);
    assert.equal(unloaded.status, 200, unloaded.text);
    assert.ok(wideReplies.length > 4);
    assert.deepEqual(
      wideReplies.filter((r) => r.status !== 200).map((r) => r.text),
      [],
      `all ${wideReplies.length} requests to wide answered, ${inflightAtUnload} of them in flight at the unload`,
    );
    assertError(
      await postJson(`${server.url}/v2/models/${WIDE}/infer`, requestFor(inputOf(1, WIDE_SIZE, 5), WIDE_DIMS)),
      404,
      /model "wide" not found: it is not loaded \(unloaded\)/,
    );
    assert.deepEqual(
      (await index(server.url)).find((e) => e.name === WIDE),
      { name: WIDE, state: 'UNAVAILABLE', reason: 'unloaded' },
    );
    assertError(await call(`${server.url}/v2/models/${WIDE}/stats`), 404, /not found/);

    // Loading it again brings it back; the corrupt model's load fails with its reason and changes nothing else.
    assert.equal((await control(WIDE, 'load')).status, 200);
    const broken = await control(BROKEN, 'load');
    assertError(broken, 400, /failed to load "broken" version 1: .*digest stored at export/);
    const brokenEntry = (await index(server.url)).find((e) => e.name === BROKEN)!;
    assert.equal(brokenEntry.state, 'UNAVAILABLE');
    assert.match(brokenEntry.reason, /digest stored at export/);
    await new Promise((r) => setTimeout(r, 200));

    const smallReplies = await smallLoad.stop();
    assert.deepEqual(
      smallReplies.filter((r) => r.status !== 200).map((r) => r.text),
      [],
      'no request to small failed across the switch',
    );
    // Version 1 answered until the switch, version 2 after it: with 4 loops, at most 4 replies of version 1 (sent
    // before the switch) may come back after the first of version 2; after the load returned, only version 2.
    const versions = smallReplies.map((r) => r.version);
    const first2 = versions.indexOf('2');
    const last1 = versions.lastIndexOf('1');
    assert.ok(first2 > 0 && last1 >= 0, 'both versions answered');
    assert.ok(last1 - first2 < 4, `version 1 answered at ${last1}, version 2 from ${first2}`);
    assert.ok(last1 < switched, 'version 1 did not answer after its replacement finished loading');
    assert.ok(versions.length > switched + 4, 'requests went on after the switch');
    assert.equal(
      (await postJson(`${server.url}/v2/models/${WIDE}/infer`, requestFor(inputOf(1, WIDE_SIZE, 6), WIDE_DIMS))).status,
      200,
    );
    assertError(
      await postJson(
        `${server.url}/v2/models/${SMALL}/versions/1/infer`,
        requestFor(inputOf(1, SMALL_SIZE, 7), SMALL_DIMS),
      ),
      404,
      /has no version "1" \(versions: "2"\)/,
    );
  } finally {
    await server.close();
    rmSync(join(repo.root, SMALL, '2'), { recursive: true, force: true });
  }
});

test('a new version that fails to load leaves the version before it serving, and the index says why', async () => {
  const repository = await ModelRepository.open({ root: repo.root, controlMode: 'explicit', loadModels: [SMALL] });
  const server = await startServer(repository, { port: 0 });
  try {
    await addVersion(repo.root, SMALL, smallCheckpoint(9), '5');
    const path = join(repo.root, SMALL, '5', 'model.onnx');
    writeFileSync(path, readFileSync(path).subarray(0, 1000));
    assertError(
      await postJson(`${server.url}/v2/repository/models/${SMALL}/load`, {}),
      400,
      /failed to load "small" version 5: /,
    );
    assert.deepEqual(
      (await index(server.url)).filter((e) => e.name === SMALL).map((e) => [e.version, e.state]),
      [
        ['1', 'READY'],
        ['5', 'UNAVAILABLE'],
      ],
    );
    const reply = await postJson(
      `${server.url}/v2/models/${SMALL}/infer`,
      requestFor(inputOf(1, SMALL_SIZE, 10), SMALL_DIMS),
    );
    assert.equal(reply.status, 200, reply.text);
    assert.equal((reply.json as { model_version: string }).model_version, '1');
  } finally {
    await server.close();
    rmSync(join(repo.root, SMALL, '5'), { recursive: true, force: true });
  }
});

test('the budget: --max-loaded-models and --max-model-bytes refuse a load with 507, and the index says why', async () => {
  const byCount = await ModelRepository.open({
    root: repo.root,
    controlMode: 'explicit',
    loadModels: [SMALL],
    maxLoadedModels: 1,
  });
  const server = await startServer(byCount, { port: 0 });
  try {
    const refused = await postJson(`${server.url}/v2/repository/models/${WIDE}/load`, {});
    assertError(
      refused,
      507,
      /would make 2 model versions loaded, over --max-loaded-models 1 \(loaded: small\); unload one first/,
    );
    assert.match((await index(server.url)).find((e) => e.name === WIDE)!.reason, /--max-loaded-models 1/);
    // Unloading one makes room.
    assert.equal((await postJson(`${server.url}/v2/repository/models/${SMALL}/unload`, {})).status, 200);
    assert.equal((await postJson(`${server.url}/v2/repository/models/${WIDE}/load`, {})).status, 200);
    assert.deepEqual(byCount.usage.models, 1);
  } finally {
    await server.close();
  }
  // A byte budget that holds the small model (file x 1 session) but not both.
  const alone = await ModelRepository.open({ root: repo.root, controlMode: 'explicit', loadModels: [SMALL] });
  const smallBytes = alone.usage;
  await alone.close();
  const byBytes = await ModelRepository.open({ root: repo.root, maxModelBytes: smallBytes.bytes + 1000 });
  try {
    const entries = await byBytes.index();
    assert.deepEqual(
      entries.filter((e) => e.state === 'READY').map((e) => e.name),
      [SMALL],
    );
    assert.match(entries.find((e) => e.name === WIDE)!.reason, /over --max-model-bytes \d+; unload one first/);
  } finally {
    await byBytes.close();
  }
});

test('poll: a model added to the folder loads, a changed one reloads, a removed one unloads', async () => {
  const repository = await ModelRepository.open({ root: repo.root, controlMode: 'poll', pollIntervalMs: 60_000 });
  try {
    assert.deepEqual(repository.loadedNames, [SMALL, WIDE]);
    const server = await startServer(repository, { port: 0 });
    try {
      assertError(
        await postJson(`${server.url}/v2/repository/models/${SMALL}/load`, {}),
        400,
        /by polling the repository/,
      );
    } finally {
      await server.close();
    }
  } finally {
    await repository.close();
  }
  const polled = await ModelRepository.open({ root: repo.root, controlMode: 'poll', pollIntervalMs: 200 });
  try {
    await addVersion(repo.root, 'extra', smallCheckpoint(5), '1');
    const until = async (check: () => boolean, what: string): Promise<void> => {
      for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 100));
      assert.ok(check(), what);
    };
    await until(() => polled.loadedNames.includes('extra'), 'the new model was loaded by the poll');
    assert.equal(polled.model('extra').spec.version, '1');
    await addVersion(repo.root, 'extra', smallCheckpoint(6), '3');
    await until(() => polled.model('extra').spec.version === '3', 'the new version took over');
    rmSync(join(repo.root, 'extra'), { recursive: true, force: true });
    await until(() => !polled.loadedNames.includes('extra'), 'the removed model was unloaded');
    assert.deepEqual(polled.loadedNames, [SMALL, WIDE]);
  } finally {
    rmSync(join(repo.root, 'extra'), { recursive: true, force: true });
    await polled.close();
  }
});

test('repository routes: the error matrix', async () => {
  const repository = await ModelRepository.open({ root: repo.root, controlMode: 'explicit', loadModels: [SMALL] });
  const server = await startServer(repository, { port: 0, maxBodyBytes: 40_000 });
  const at = (path: string): string => `${server.url}/v2/repository${path}`;
  try {
    const cases: [Promise<Reply>, number, RegExp][] = [
      [call(at('/index')), 405, /method GET is not allowed on \/v2\/repository\/index \(allowed: POST\)/],
      [call(at(`/models/${SMALL}/load`)), 405, /allowed: POST/],
      [
        call(at('/index'), { method: 'POST', body: '{"ready": 1}' }),
        400,
        /index request: ready: expected true or false, received 1/,
      ],
      [
        call(at('/index'), { method: 'POST', body: '{' }),
        400,
        /index request: expected a JSON inference request, received invalid JSON/,
      ],
      [call(at('/index'), { method: 'POST', body: '[]' }), 400, /index request: \(root\): expected an object/],
      [postJson(at('/models/nope/load'), {}), 404, /model "nope" is not in the repository/],
      [postJson(at('/models/nope/unload'), {}), 404, /model "nope" not found \(not loaded, not in the repository\)/],
      [
        postJson(at(`/models/${SMALL}/load`), { parameters: { config: '{"max_batch_size": 4}' } }),
        400,
        /parameters\.config: not supported \(a load reads the model and its config\.pbtxt from the repository; edit them there\)/,
      ],
      [
        postJson(at(`/models/${SMALL}/unload`), { parameters: { force: true } }),
        400,
        /parameters\.force: not supported/,
      ],
      [
        call(at(`/models/${SMALL}/load`), { method: 'POST', body: 'x'.repeat(50_000) }),
        413,
        /exceeds the limit of 40000 bytes/,
      ],
      [call(at('/models')), 404, /no route GET/],
      [call(at(`/models/${SMALL}/reload`), { method: 'POST' }), 404, /no route POST/],
    ];
    for (const [pending, status, pattern] of cases) assertError(await pending, status, pattern);
    // An empty body is an empty request; unload_dependents is accepted (a depthfold model has none).
    assert.equal((await call(at('/index'), { method: 'POST' })).status, 200);
    assert.equal(
      (await postJson(at(`/models/${WIDE}/unload`), { parameters: { unload_dependents: true } })).status,
      200,
    );
    // Still serving after every refusal.
    assert.equal(
      (await postJson(`${server.url}/v2/models/${SMALL}/infer`, requestFor(inputOf(1, SMALL_SIZE, 8), SMALL_DIMS)))
        .status,
      200,
    );
  } finally {
    await server.close();
  }
});
