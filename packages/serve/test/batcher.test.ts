// The dynamic batcher against a fake model (each output row is its input row's sum and index, so a row given
// to the wrong request shows): gathering, the batch and queue bounds, the delay, calls in flight, no batching.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DynamicBatcher, HttpError, type BatcherOptions } from '../src/index.js';

const IN = 3;
const OUT = 2;
const BASE: BatcherOptions = {
  batching: true,
  maxBatch: 8,
  delayMs: 20,
  maxQueue: 100,
  maxInflight: 1,
  inputSize: IN,
  outputSize: OUT,
};

/** A fake model recording each call's rows; output row = [sum of the input row, rows in the call]. */
function fakeModel(delayMs = 5): {
  run: (input: Float32Array, rows: number) => Promise<Float32Array>;
  calls: number[];
  /** Milliseconds each call took, by the model's own clock. */
  durations: number[];
  maxConcurrent: () => number;
} {
  const calls: number[] = [];
  const durations: number[] = [];
  let running = 0;
  let peak = 0;
  return {
    calls,
    durations,
    maxConcurrent: () => peak,
    run: async (input, rows) => {
      calls.push(rows);
      running++;
      peak = Math.max(peak, running);
      const started = performance.now();
      await new Promise((r) => setTimeout(r, delayMs));
      durations.push(performance.now() - started);
      running--;
      const out = new Float32Array(rows * OUT);
      for (let r = 0; r < rows; r++) {
        let sum = 0;
        for (let k = 0; k < IN; k++) sum += input[r * IN + k]!;
        out[r * OUT] = sum;
        out[r * OUT + 1] = rows;
      }
      return out;
    },
  };
}

/** `rows` rows whose sums are `tag * 10 + r` for row r. */
function rowsTagged(tag: number, rows: number): Float32Array {
  const data = new Float32Array(rows * IN);
  for (let r = 0; r < rows; r++) data[r * IN] = tag * 10 + r;
  return data;
}

function assertOwnRows(output: Float32Array, tag: number, rows: number): void {
  assert.equal(output.length, rows * OUT);
  for (let r = 0; r < rows; r++) assert.equal(output[r * OUT], tag * 10 + r, `request ${tag} row ${r}`);
}

test('concurrent requests run as one call and each gets exactly its own rows', async () => {
  const model = fakeModel();
  const batcher = new DynamicBatcher(model.run, BASE);
  const sizes = [1, 2, 1, 3];
  const outputs = await Promise.all(sizes.map((rows, tag) => batcher.submit(rowsTagged(tag, rows), rows)));
  assert.deepEqual(model.calls, [7]);
  outputs.forEach((o, tag) => assertOwnRows(o, tag, sizes[tag]!));
  const { callMs, latencyMs, ...counts } = batcher.stats;
  const runMs = callMs.mean;
  assert.deepEqual(counts, { requests: 4, batches: 1, rows: 7, largestBatch: 7, refused: 0 });
  assert.equal(callMs.count, 1, `one call timed: ${JSON.stringify(callMs)}`);
  assert.equal(latencyMs.count, 4, `four requests timed: ${JSON.stringify(latencyMs)}`);
  // The batcher's clock runs around the model's own, so the call takes at least what the model measured (less the
  // histogram's 0.1%); a loaded machine's timers may fire early or late, so the model's time, not its 5 ms, is the floor.
  const modelMs = model.durations[0]!;
  assert.ok(runMs >= modelMs * 0.998 && runMs < 1000, `call ${runMs} ms >= the model's own ${modelMs} ms`);
  // One call: every figure of the call time is that call (to the histogram's 0.1%).
  for (const ms of [callMs.p50, callMs.p99, callMs.max])
    assert.ok(Math.abs(ms - runMs) <= runMs * 0.002, `${JSON.stringify(callMs)} vs ${runMs}`);
  // The oldest request waited the 20 ms delay (7 rows do not fill a batch of 8), then the call; the others came
  // later (a loaded machine may pause between two submits) and waited less, but every one waited for the call.
  const floor = (BASE.delayMs + runMs) * 0.998;
  const stats = JSON.stringify(latencyMs);
  assert.ok(latencyMs.max >= floor && latencyMs.max < 1000, `oldest request ${stats} >= delay + call ${floor} ms`);
  assert.ok(latencyMs.p50 >= runMs * 0.998 && latencyMs.p50 <= latencyMs.p99, `each request ${stats} >= the call`);
});

test('a batch never exceeds maxBatch and requests are never split', async () => {
  const model = fakeModel();
  const batcher = new DynamicBatcher(model.run, { ...BASE, maxBatch: 4 });
  const sizes = [3, 3, 2, 1, 4];
  const outputs = await Promise.all(sizes.map((rows, tag) => batcher.submit(rowsTagged(tag, rows), rows)));
  outputs.forEach((o, tag) => assertOwnRows(o, tag, sizes[tag]!));
  assert.ok(
    model.calls.every((rows) => rows <= 4),
    `calls ${model.calls}`,
  );
  assert.equal(
    model.calls.reduce((a, b) => a + b, 0),
    13,
  );
});

test('a full batch leaves at once; a partial one waits for the delay', async () => {
  const full = fakeModel(0);
  const batcher = new DynamicBatcher(full.run, { ...BASE, maxBatch: 2, delayMs: 1000 });
  const started = performance.now();
  await Promise.all([batcher.submit(rowsTagged(0, 1), 1), batcher.submit(rowsTagged(1, 1), 1)]);
  assert.ok(performance.now() - started < 500, 'a full batch does not wait for the delay');

  const partial = fakeModel(0);
  const waiting = new DynamicBatcher(partial.run, { ...BASE, delayMs: 60 });
  const t0 = performance.now();
  await waiting.submit(rowsTagged(0, 1), 1);
  assert.ok(performance.now() - t0 >= 55, 'a lone request waits for company up to the delay');
});

test('requests queued while a call runs go together in the next call', async () => {
  const model = fakeModel(40);
  const batcher = new DynamicBatcher(model.run, { ...BASE, delayMs: 0 });
  const first = batcher.submit(rowsTagged(0, 1), 1);
  await new Promise((r) => setTimeout(r, 5));
  const rest = [1, 2, 3].map((tag) => batcher.submit(rowsTagged(tag, 1), 1));
  const outputs = await Promise.all([first, ...rest]);
  outputs.forEach((o, tag) => assertOwnRows(o, tag, 1));
  assert.deepEqual(model.calls, [1, 3]);
});

test('the next batch starts before the finished one is answered', async () => {
  const model = fakeModel(20);
  const batcher = new DynamicBatcher(model.run, { ...BASE, delayMs: 0 });
  const first = batcher.submit(rowsTagged(0, 1), 1);
  await new Promise((r) => setTimeout(r, 5));
  const second = batcher.submit(rowsTagged(1, 1), 1);
  // What the first request sees as it is answered: the second is already running.
  const seen = await first.then(() => ({ calls: [...model.calls], inflight: batcher.inflight }));
  assert.deepEqual(seen, { calls: [1, 1], inflight: 1 });
  assertOwnRows(await second, 1, 1);
});

test('no batching runs one call per request', async () => {
  const model = fakeModel(1);
  const batcher = new DynamicBatcher(model.run, { ...BASE, batching: false });
  const outputs = await Promise.all([0, 1, 2].map((tag) => batcher.submit(rowsTagged(tag, 2), 2)));
  outputs.forEach((o, tag) => assertOwnRows(o, tag, 2));
  assert.deepEqual(model.calls, [2, 2, 2]);
});

test('maxInflight bounds the calls running at once', async () => {
  const model = fakeModel(20);
  const batcher = new DynamicBatcher(model.run, { ...BASE, batching: false, maxInflight: 2 });
  await Promise.all(Array.from({ length: 6 }, (_, tag) => batcher.submit(rowsTagged(tag, 1), 1)));
  assert.equal(model.maxConcurrent(), 2);
});

test('beyond maxQueue waiting requests, submit is refused with 503', async () => {
  const model = fakeModel(0);
  const batcher = new DynamicBatcher(model.run, { ...BASE, maxQueue: 2, delayMs: 50 });
  const results = await Promise.allSettled(
    Array.from({ length: 5 }, (_, tag) => batcher.submit(rowsTagged(tag, 1), 1)),
  );
  assert.deepEqual(
    results.map((r) => r.status),
    ['fulfilled', 'fulfilled', 'rejected', 'rejected', 'rejected'],
  );
  const refused = results[2] as PromiseRejectedResult;
  assert.ok(refused.reason instanceof HttpError);
  assert.equal(refused.reason.status, 503);
  assert.match(refused.reason.message, /--max-queue/);
  assert.equal(batcher.stats.refused, 3);
});

test('a failed call rejects every request of its batch, and the batcher goes on', async () => {
  let fail = true;
  const model = fakeModel(0);
  const batcher = new DynamicBatcher(async (input, rows) => {
    if (fail) throw new Error('boom');
    return model.run(input, rows);
  }, BASE);
  const results = await Promise.allSettled([batcher.submit(rowsTagged(0, 1), 1), batcher.submit(rowsTagged(1, 1), 1)]);
  assert.deepEqual(
    results.map((r) => r.status),
    ['rejected', 'rejected'],
  );
  fail = false;
  assertOwnRows(await batcher.submit(rowsTagged(2, 1), 1), 2, 1);
});

test('idle() resolves once nothing waits or runs; bad row counts are refused', async () => {
  const model = fakeModel(10);
  const batcher = new DynamicBatcher(model.run, BASE);
  const pending = batcher.submit(rowsTagged(0, 1), 1);
  let done = false;
  const idle = batcher.idle().then(() => (done = true));
  assert.equal(done, false);
  await pending;
  await idle;
  assert.equal(batcher.queued + batcher.inflight, 0);
  await assert.rejects(batcher.submit(new Float32Array(IN * 9), 9), /expected 1 to 8 rows/);
  await assert.rejects(batcher.submit(new Float32Array(IN + 1), 1), /rows of 3/);
});
