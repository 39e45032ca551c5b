// The report page: one self-contained HTML file (styles and SVG charts inline) with the runs table, the sweep
// table, the charts, the settings the runs share and differ in, and notes on anything incomplete.
import type { RunData } from './run-data.js';
import { sweepPoints } from './charts.js';
import { runNotes, summarise, type RunSummary } from './summary.js';

/** A rendered chart, ready for the page. */
export interface RenderedChart {
  name: string;
  title: string;
  caption: string;
  /** The SVG, its ids already namespaced for inlining. */
  svg: string;
  /** The SVG file beside the page. */
  file: string;
}

/** What the page shows. */
export interface PageInput {
  title: string;
  generated: Date;
  runs: readonly RunData[];
  charts: readonly RenderedChart[];
  sweep: boolean;
}

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A test error as a percentage, `12.34%`. */
export function percent(value: number | undefined): string {
  return value === undefined ? '-' : `${(100 * value).toFixed(2)}%`;
}

/** A duration for people: `35.2 s`, `12 min 05 s`, `2 h 03 min`. */
export function duration(seconds: number | undefined): string {
  if (seconds === undefined) return '-';
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const s = Math.round(seconds);
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

// A cell carries its raw value too, so tests and scripts read numbers rather than formatted text.
function cell(field: string, value: number | string | undefined, text: string, numeric = true, extra = ''): string {
  const data = value === undefined ? '' : ` data-value="${escapeHtml(String(value))}"`;
  return `<td data-field="${field}"${data}${extra}${numeric ? ' class="num"' : ''}>${escapeHtml(text)}</td>`;
}

function runRow(s: RunSummary, testExamples: number | undefined): string {
  const epochs =
    s.epochsPlanned !== undefined && s.epochsPlanned !== s.epochsDone
      ? `${s.epochsDone} of ${s.epochsPlanned}`
      : String(s.epochsDone);
  return [
    '<tr>',
    cell('label', s.label, s.label, false),
    cell('depth', s.depth, s.depth === undefined ? '-' : String(s.depth)),
    cell('rule', s.rule, s.rule ?? '-', false),
    cell('survivalProb', s.survivalProb, s.rule === 'none' ? '1 (all)' : (s.survivalProb?.toString() ?? '-')),
    cell('epochs', s.epochsDone, epochs),
    cell('finalTestError', s.finalTestError, percent(s.finalTestError)),
    cell(
      'bestTestError',
      s.bestTestError,
      s.bestTestError === undefined ? '-' : `${percent(s.bestTestError)} (epoch ${s.bestEpoch})`,
      true,
      s.bestEpoch === undefined ? '' : ` data-epoch="${s.bestEpoch}"`,
    ),
    cell(
      'chosenTestError',
      s.chosenTestError,
      s.chosenEpoch === undefined
        ? '-'
        : `${percent(s.chosenTestError)} (epoch ${s.chosenEpoch}, validation ${percent(s.chosenValidationError)})`,
      true,
      s.chosenEpoch === undefined ? '' : ` data-epoch="${s.chosenEpoch}"`,
    ),
    cell('testExamples', testExamples, testExamples === undefined ? '-' : String(testExamples)),
    cell('totalSeconds', s.totalSeconds, duration(s.totalSeconds)),
    cell(
      'medianImagesPerSecond',
      s.medianImagesPerSecond,
      s.medianImagesPerSecond === undefined ? '-' : s.medianImagesPerSecond.toFixed(1),
    ),
    cell('backend', s.backends.join(', '), s.backends.join(', ') || '-', false),
    cell('dir', s.dir, s.dir, false),
    '</tr>',
  ].join('');
}

function runsTable(runs: readonly RunData[]): string {
  const head = [
    'run',
    'depth',
    'rule',
    'p_L',
    'epochs',
    'final test error',
    'best test error',
    'test error of the epoch chosen by validation',
    'test images',
    'training time',
    'images/s (median)',
    'backend',
    'directory',
  ];
  const rows = runs.map((run) =>
    runRow(summarise(run), run.metrics[run.metrics.length - 1]!.testExamples ?? undefined),
  );
  return `<table class="runs"><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function sweepTable(runs: readonly RunData[]): string {
  const points = sweepPoints(runs);
  if (!points.length) return '<p>No finished sweep run yet.</p>';
  const depths = new Set(points.map((p) => p.depth));
  const key = (p: { rule: string; depth: number }) => (depths.size > 1 ? `${p.rule}, ResNet-${p.depth}` : p.rule);
  const columns = [...new Set(points.map(key))];
  const probs = [...new Set(points.map((p) => p.survivalProb))].sort((a, b) => a - b);
  const best = Math.min(...points.map((p) => p.testError));
  const rows = probs.map((prob) => {
    const cells = columns.map((col) => {
      const point = points.find((p) => p.survivalProb === prob && key(p) === col);
      const text = percent(point?.testError);
      const mark = point && point.testError === best ? ' class="num best"' : ' class="num"';
      return `<td data-field="${escapeHtml(col)}"${point ? ` data-value="${point.testError}"` : ''}${mark}>${text}</td>`;
    });
    return `<tr><td class="num">${prob}${prob === 1 ? ' (constant depth)' : ''}</td>${cells.join('')}</tr>`;
  });
  return (
    `<table class="sweep"><thead><tr><th>p_L</th>${columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr></thead>` +
    `<tbody>${rows.join('')}</tbody></table><p class="small">Final test error of each finished run; the lowest is in bold.</p>`
  );
}

// Fields that name or locate a run rather than define what it trained.
const NOT_SETTINGS = new Set(['name', 'runDir', 'resume']);

function settings(runs: readonly RunData[]): string {
  const keys = [...new Set(runs.flatMap((r) => Object.keys(r.config)))].filter((k) => !NOT_SETTINGS.has(k));
  const show = (v: unknown) => (v === undefined ? '-' : typeof v === 'string' ? v : JSON.stringify(v));
  const common: string[] = [];
  const differing: string[] = [];
  for (const key of keys) {
    const values = runs.map((r) => JSON.stringify(r.config[key]));
    if (values.every((v) => v === values[0]) && runs[0]!.config[key] !== undefined) common.push(key);
    else differing.push(key);
  }
  const commonList = common
    .map((k) => `<code>${escapeHtml(k)}</code>&nbsp;${escapeHtml(show(runs[0]!.config[k]))}`)
    .join(', ');
  let html = `<p><b>Shared by every run:</b> ${commonList || 'nothing'}.</p>`;
  if (differing.length && runs.length > 1) {
    const head = `<tr><th>run</th>${differing.map((k) => `<th>${escapeHtml(k)}</th>`).join('')}</tr>`;
    const rows = runs.map(
      (r) =>
        `<tr><td>${escapeHtml(r.label)}</td>${differing.map((k) => `<td>${escapeHtml(show(r.config[k]))}</td>`).join('')}</tr>`,
    );
    html += `<table class="settings"><thead>${head}</thead><tbody>${rows.join('')}</tbody></table>`;
  }
  return html;
}

function notes(runs: readonly RunData[]): string {
  const items = runs.flatMap((r) =>
    runNotes(r).map((n) => `<li><b>${escapeHtml(r.label)}</b> (${escapeHtml(r.dir)}): ${escapeHtml(n)}</li>`),
  );
  return items.length
    ? `<ul class="notes">${items.join('')}</ul>`
    : '<p>None: every run finished and recorded every field.</p>';
}

function figure(chart: RenderedChart): string {
  return (
    `<figure id="${chart.name}"><figcaption><b>${escapeHtml(chart.title)}.</b> ${escapeHtml(chart.caption)} ` +
    `<a href="${escapeHtml(chart.file)}">SVG</a></figcaption>${chart.svg}</figure>`
  );
}

const STYLE = `
body { font: 14px/1.45 Helvetica, Arial, sans-serif; color: #222; margin: 2em auto; max-width: 1200px; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { margin-top: 1.8em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.5em 0; } th, td { padding: 4px 8px; border-bottom: 1px solid #e5e5e5; text-align: left; }
th { background: #f5f5f5; font-weight: 600; } td.num, td[data-field="label"] { white-space: nowrap; } td.num { text-align: right; font-variant-numeric: tabular-nums; } td.best { font-weight: 700; }
figure { margin: 1.5em 0; } figcaption { max-width: 900px; margin-bottom: 0.5em; } figure svg { max-width: 100%; height: auto; }
.meta, .small { color: #666; } .small { font-size: 0.9em; } code { background: #f3f3f3; padding: 0 3px; }
`;

/** The report page. */
export function reportHtml(input: PageInput): string {
  const { title, generated, runs, charts, sweep } = input;
  const parts = [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>`,
    `<h1>${escapeHtml(title)}</h1>`,
    `<p class="meta">${runs.length} run${runs.length === 1 ? '' : 's'}, generated ${escapeHtml(generated.toISOString())} by <code>@depthfold/report</code>. ` +
      'Training time counts the training steps only (evaluation excluded); images/s is the median over epochs. ' +
      'Test error on the number of test images shown: with few images it is coarse (1 image of 100 is 1%). ' +
      'Runs with a validation split (<code>--validation N</code>) are read at the epoch of lowest validation error: ' +
      'the best test error looks at the test set, that epoch does not.</p>',
    '<h2>Runs</h2>',
    runsTable(runs),
  ];
  if (sweep) parts.push('<h2>Sweep: final test error by p_L</h2>', sweepTable(runs));
  parts.push('<h2>Charts</h2>', ...charts.map(figure));
  parts.push('<h2>Settings</h2>', settings(runs), '<h2>Notes</h2>', notes(runs), '</body></html>');
  return `${parts.join('\n')}\n`;
}
