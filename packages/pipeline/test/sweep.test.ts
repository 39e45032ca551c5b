// One tiny real sweep (ResNet-8, 256 images, 2 epochs, two p_L): interrupted after the second run's first epoch,
// then resumed: the finished run is skipped, the partial one continues from its checkpoint, the report is written.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runSweep, type SweepOptions } from '../src/index.js';
import { tempDir } from './fixtures.js';

const root = tempDir('sweep');
after(() => rmSync(root, { recursive: true, force: true }));
const options: SweepOptions = {
  name: 'tiny',
  root,
  grid: { rules: ['linear'], depths: [8], survivalProbs: [0.5, 0.8] },
  // One worker thread: two would each start a wasm backend, which costs more than 4 steps of ResNet-8 gain.
  train: { trainLimit: 256, testLimit: 100, batchSize: 64, epochs: 2, workers: 1 },
  out: join(root, 'report'),
};
const metricsOf = (id: string) => readFileSync(join(root, 'sweep-tiny', id, 'metrics.jsonl'), 'utf8');

test('sweep: a real sweep interrupted half-way continues where it stopped', { timeout: 240_000 }, async () => {
  const seen: string[] = [];
  // The interruption: the process "dies" once the second run has saved its first epoch (the hook runs after the
  // checkpoint and metrics are written, as a kill between epochs would leave them).
  const first = await runSweep(options, {
    onEpoch(run, m) {
      seen.push(`${run.id}:${m.epoch}`);
      if (run.id === 'linear-d8-p0.8' && m.epoch === 1) throw new Error('interrupted');
    },
  });
  assert.deepEqual(
    first.plan.map((r) => [r.id, r.action]),
    [
      ['linear-d8-p0.5', 'start'],
      ['linear-d8-p0.8', 'start'],
    ],
  );
  assert.deepEqual(seen, ['linear-d8-p0.5:1', 'linear-d8-p0.5:2', 'linear-d8-p0.8:1']);
  assert.deepEqual(
    first.trained.map((r) => r.id),
    ['linear-d8-p0.5'],
  );
  assert.deepEqual(
    first.failed.map((f) => [f.run.id, f.error.message]),
    [['linear-d8-p0.8', 'interrupted']],
  );
  assert.ok(first.report, 'a report of what there is');
  assert.match(readFileSync(first.report.html, 'utf8'), /unfinished: 1 of 2 epochs/);
  const finished = metricsOf('linear-d8-p0.5');

  seen.length = 0;
  const second = await runSweep(options, { onEpoch: (run, m) => seen.push(`${run.id}:${m.epoch}`) });
  assert.deepEqual(
    second.plan.map((r) => [r.id, r.action, r.epochsDone]),
    [
      ['linear-d8-p0.5', 'skip', 2],
      ['linear-d8-p0.8', 'resume', 1],
    ],
  );
  assert.deepEqual(seen, ['linear-d8-p0.8:2'], 'only the missing epoch is trained');
  assert.deepEqual(second.failed, []);
  assert.equal(metricsOf('linear-d8-p0.5'), finished, 'the finished run is untouched');
  const resumed = metricsOf('linear-d8-p0.8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { epoch: number; step: number; expectedDepth: number });
  assert.deepEqual(
    resumed.map((m) => [m.epoch, m.step]),
    [
      [1, 4],
      [2, 8],
    ],
  );
  // ResNet-8 has 3 blocks; linear decay to p_L = 0.8 gives p_l = 0.933, 0.867, 0.8, so E[L'] = 2.6.
  assert.ok(Math.abs(resumed[1]!.expectedDepth - 2.6) < 1e-9, `E[L'] ${resumed[1]!.expectedDepth}`);

  const report = second.report!;
  assert.deepEqual(
    report.charts.map((c) => c.name),
    ['loss-error', 'epoch-time', 'depth', 'grad-magnitude', 'survival-sweep'],
  );
  const html = readFileSync(report.html, 'utf8');
  assert.equal(html.match(/<svg/g)?.length, 5);
  assert.match(html, /<title>Sweep tiny: ResNet-8, 2 epochs on 256 images of fashion-mnist, seed 1<\/title>/);
  assert.match(html, /<td class="num">0\.5<\/td><td data-field="linear" data-value="[0-9.]+"/);
  assert.match(html, /<td class="num">0\.8<\/td><td data-field="linear" data-value="[0-9.]+"/);
  assert.doesNotMatch(html, /unfinished/);
});
