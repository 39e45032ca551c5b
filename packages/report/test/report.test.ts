// The HTML report on synthetic run directories: files and charts, the table's numbers, labels, notes, errors.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadRun, median, parseReportCommandLine, sweepPoints, writeReport, loadRuns } from '../src/index.js';
import { tempDir, writeRun } from './fixtures.js';

const work = tempDir('html');
after(() => rmSync(work, { recursive: true, force: true }));
const linear = writeRun(join(work, 'linear'), {
  testErrors: [0.4, 0.3, 0.25, 0.27, 0.26],
  seconds: [10, 11, 12, 13, 14],
  imagesPerSecond: [100, 300, 200, 250, 150],
  validationErrors: [0.41, 0.31, 0.27, 0.24, 0.25],
});
const constant = writeRun(join(work, 'constant'), {
  survivalRule: 'none',
  testErrors: [0.42, 0.33, 0.29, 0.28, 0.281],
  oldFormat: true,
});
const partial = writeRun(join(work, 'partial'), {
  survivalRule: 'uniform',
  survivalProb: 0.8,
  epochs: 5,
  testErrors: [0.45, 0.35, 0.3],
});

/** The cells of the runs table row whose label is `label`, by data-field. */
function row(
  html: string,
  label: string,
): Map<string, { value: string | undefined; epoch: string | undefined; text: string }> {
  const rows = html.match(/<tr>.*?<\/tr>/g) ?? [];
  const match = rows.find((r) => r.includes(`data-field="label" data-value="${label}"`));
  assert.ok(match, `a table row for ${label}`);
  const cells = new Map<string, { value: string | undefined; epoch: string | undefined; text: string }>();
  for (const m of match.matchAll(
    /<td data-field="([^"]+)"(?: data-value="([^"]*)")?(?: data-epoch="([^"]*)")?[^>]*>(.*?)<\/td>/g,
  )) {
    cells.set(m[1]!, { value: m[2], epoch: m[3], text: m[4]! });
  }
  return cells;
}

test('report: index.html with one inline <svg> per chart and the SVG files beside it', async () => {
  const out = join(work, 'report');
  const result = await writeReport([linear, constant, partial], {
    out,
    title: 'Three runs <test>',
    now: new Date('2026-01-02T03:04:05Z'),
  });
  const html = readFileSync(join(out, 'index.html'), 'utf8');
  assert.deepEqual(
    result.charts.map((c) => c.name),
    ['loss-error', 'epoch-time', 'depth', 'grad-magnitude'],
  );
  for (const chart of result.charts) {
    assert.match(readFileSync(chart.file, 'utf8'), /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/, chart.file);
    assert.ok(html.includes(`href="${chart.name}.svg"`), `links ${chart.name}.svg`);
  }
  assert.equal(html.match(/<svg/g)?.length, 4, 'one inline svg per chart');
  assert.match(html, /<title>Three runs &lt;test&gt;<\/title>/, 'the title is escaped');
  assert.ok(!/<script/.test(html), 'self-contained and static: no script');
  assert.ok(!/src="http|href="http(?!:\/\/www.w3.org)/.test(html), 'nothing loaded from elsewhere');
  // Charts inlined in one page must not share ids (vega numbers its clip paths from 1 in every chart).
  const ids = [...html.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(new Set(ids).size, ids.length, 'ids are unique');
  for (const ref of html.matchAll(/url\(#([^)]+)\)/g)) assert.ok(ids.includes(ref[1]), `url(#${ref[1]}) resolves`);
});

test('report: labels runs by their config, in the table and in the charts', async () => {
  const result = await writeReport([linear, constant, partial], { out: join(work, 'labels') });
  assert.deepEqual(
    result.runs.map((r) => r.label),
    ['ResNet-20 linear p_L=0.5', 'ResNet-20 constant depth', 'ResNet-20 uniform p_L=0.8'],
  );
  const legend = readFileSync(join(work, 'labels', 'loss-error.svg'), 'utf8');
  for (const run of result.runs) assert.ok(legend.includes(run.label), `legend names ${run.label}`);
  assert.ok(legend.includes('validation'), 'the validation split has its own line and legend entry');
});

test('report: the table has final and best test error with its epoch, training time and median images/s', async () => {
  const out = join(work, 'table');
  await writeReport([linear, constant, partial], { out });
  const html = readFileSync(join(out, 'index.html'), 'utf8');
  const a = row(html, 'ResNet-20 linear p_L=0.5');
  assert.equal(Number(a.get('finalTestError')!.value), 0.26);
  assert.equal(a.get('finalTestError')!.text, '26.00%');
  assert.equal(Number(a.get('bestTestError')!.value), 0.25);
  assert.equal(a.get('bestTestError')!.epoch, '3');
  assert.equal(a.get('bestTestError')!.text, '25.00% (epoch 3)');
  // Chosen by validation (epoch 4, 24%), not by the test set (epoch 3).
  assert.equal(Number(a.get('chosenTestError')!.value), 0.27);
  assert.equal(a.get('chosenTestError')!.epoch, '4');
  assert.equal(a.get('chosenTestError')!.text, '27.00% (epoch 4, validation 24.00%)');
  assert.equal(Number(a.get('totalSeconds')!.value), 60);
  assert.equal(a.get('totalSeconds')!.text, '1 min 00 s');
  assert.equal(Number(a.get('medianImagesPerSecond')!.value), 200);
  assert.equal(a.get('depth')!.value, '20');
  assert.equal(a.get('rule')!.value, 'linear');
  assert.equal(a.get('survivalProb')!.value, '0.5');
  assert.equal(a.get('epochs')!.text, '5');
  assert.equal(a.get('testExamples')!.value, '1000');
  assert.equal(a.get('backend')!.text, 'wasm x2');

  const b = row(html, 'ResNet-20 constant depth');
  assert.equal(Number(b.get('bestTestError')!.value), 0.28);
  assert.equal(b.get('bestTestError')!.epoch, '4');
  assert.equal(b.get('survivalProb')!.text, '1 (all)');
  assert.equal(b.get('backend')!.text, 'wasm', 'an old run without workers');
  assert.equal(b.get('chosenTestError')!.text, '-', 'no validation split');

  const c = row(html, 'ResNet-20 uniform p_L=0.8');
  assert.equal(c.get('epochs')!.text, '3 of 5');
  assert.equal(Number(c.get('finalTestError')!.value), 0.3);

  assert.match(html, /ResNet-20 uniform p_L=0.8<\/b> \([^)]*partial\): unfinished: 3 of 5 epochs/);
  assert.match(html, /ResNet-20 constant depth<\/b> \([^)]*\): no gradient magnitudes/);
  assert.match(html, /<th>survivalRule<\/th>/, 'the settings that differ get a column');
  assert.match(html, /<code>seed<\/code>&nbsp;1/, 'the settings shared are listed');
});

test('report: runs without gradient magnitudes get no gradient chart', async () => {
  const result = await writeReport([constant], { out: join(work, 'old') });
  assert.deepEqual(
    result.charts.map((c) => c.name),
    ['loss-error', 'epoch-time', 'depth'],
  );
  assert.equal(readFileSync(join(work, 'old', 'index.html'), 'utf8').match(/<svg/g)?.length, 3);
});

test('report --sweep: final test error vs p_L per rule, constant depth at p_L = 1 on every line', async () => {
  const sweep = join(work, 'sweep');
  const dirs = [
    writeRun(join(sweep, 'none-d20-p1'), { survivalRule: 'none', survivalProb: 1, testErrors: [0.3, 0.2] }),
    writeRun(join(sweep, 'linear-d20-p0.5'), { survivalRule: 'linear', survivalProb: 0.5, testErrors: [0.3, 0.18] }),
    writeRun(join(sweep, 'uniform-d20-p0.5'), { survivalRule: 'uniform', survivalProb: 0.5, testErrors: [0.3, 0.22] }),
    writeRun(join(sweep, 'uniform-d20-p0.8'), {
      survivalRule: 'uniform',
      survivalProb: 0.8,
      epochs: 2,
      testErrors: [0.3],
    }),
  ];
  const runs = await loadRuns(dirs);
  assert.deepEqual(
    sweepPoints(runs),
    [
      { rule: 'linear', depth: 20, survivalProb: 0.5, testError: 0.18 },
      { rule: 'linear', depth: 20, survivalProb: 1, testError: 0.2 },
      { rule: 'uniform', depth: 20, survivalProb: 0.5, testError: 0.22 },
      { rule: 'uniform', depth: 20, survivalProb: 1, testError: 0.2 },
    ],
    'the unfinished run is left out',
  );
  const result = await writeReport(dirs, { out: join(sweep, 'report'), sweep: true });
  assert.equal(result.charts.at(-1)!.name, 'survival-sweep');
  const html = readFileSync(result.html, 'utf8');
  assert.equal(html.match(/<svg/g)?.length, result.charts.length);
  assert.match(html, /<h2>Sweep: final test error by p_L<\/h2>\n<table class="sweep">/);
  assert.match(
    html,
    /<td class="num">0.5<\/td><td data-field="linear" data-value="0.18" class="num best">18.00%<\/td><td data-field="uniform" data-value="0.22" class="num">22.00%/,
  );
  assert.match(html, /<td class="num">1 \(constant depth\)<\/td><td data-field="linear" data-value="0.2"/);
});

test('report: a directory without metrics.jsonl is an error naming it', async () => {
  const empty = join(work, 'no-metrics');
  writeRun(empty, { testErrors: [0.5] });
  rmSync(join(empty, 'metrics.jsonl'));
  await assert.rejects(writeReport([linear, empty], { out: join(work, 'never') }), (error: Error) => {
    assert.match(error.message, /run .*no-metrics: .*no-metrics\/metrics\.jsonl is missing/);
    return true;
  });
  assert.equal(existsSync(join(work, 'never')), false, 'nothing written');
  await assert.rejects(loadRun(join(work, 'does-not-exist')), /run .*does-not-exist: no such directory/);
  const noConfig = writeRun(join(work, 'no-config'), { testErrors: [0.5] });
  rmSync(join(noConfig, 'config.json'));
  await assert.rejects(loadRun(noConfig), /no-config\/config\.json is missing/);
  const bad = writeRun(join(work, 'bad-line'), { testErrors: [0.5, 0.4] });
  writeFileSync(
    join(bad, 'metrics.jsonl'),
    `${readFileSync(join(bad, 'metrics.jsonl'), 'utf8')}{"epoch": 3, "testError": "x"}\n`,
  );
  await assert.rejects(loadRun(bad), /bad-line\/metrics\.jsonl line 3: testError: expected a number, received "x"/);
});

test('report CLI: arguments, and a clear error with exit status 1', () => {
  assert.equal(parseReportCommandLine(['--help']), 'help');
  assert.deepEqual(parseReportCommandLine(['a', 'b', '--out', 'o', '--title', 'T']), {
    runDirs: ['a', 'b'],
    options: { out: 'o', title: 'T', sweep: false },
  });
  assert.throws(() => parseReportCommandLine([]), /at least one run directory/);
  assert.throws(() => parseReportCommandLine(['a', '--bogus']), /--bogus/);
  const cli = join(import.meta.dirname, '..', 'dist', 'cli', 'report.js');
  const missing = join(work, 'cli-missing');
  const r = spawnSync(process.execPath, [cli, linear, missing, '--out', join(work, 'cli')], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^report: run .*cli-missing: no such directory/);
  const ok = spawnSync(process.execPath, [cli, linear, constant, '--out', join(work, 'cli')], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /report: .*cli\/index\.html/);
});

test('median', () => {
  assert.equal(median([]), undefined);
  assert.equal(median([3]), 3);
  assert.equal(median([5, 1, 3]), 3);
  assert.equal(median([4, 1, 3, 2]), 2.5);
});
