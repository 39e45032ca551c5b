// `writeReport`: loads run directories, renders their charts to SVG files and writes the self-contained index.html.
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { reportCharts } from './charts.js';
import { reportHtml, type RenderedChart } from './html.js';
import { namespaceSvgIds, renderSvg } from './render-svg.js';
import { loadRuns, type RunData } from './run-data.js';

/** Options of {@link writeReport}. */
export interface ReportOptions {
  /** Output directory (default: {@link defaultReportDir}). */
  out?: string;
  /** Page title (default: the runs' labels, or their count). */
  title?: string;
  /** Add the sweep's chart and table: final test error vs p_L per survival rule. */
  sweep?: boolean;
  /** The time the report says it was made (tests fix it). */
  now?: Date;
}

/** What {@link writeReport} wrote. */
export interface ReportResult {
  outDir: string;
  html: string;
  /** The SVG files, one per chart. */
  charts: { name: string; file: string }[];
  runs: RunData[];
}

const SAFE = /[^A-Za-z0-9._+-]+/g;

/** `reports/<run names joined by +>` for a few runs, else `reports/<timestamp>`. */
export function defaultReportDir(runDirs: readonly string[], now: Date): string {
  const names = [...new Set(runDirs.map((d) => basename(resolve(d)).replace(SAFE, '_')))].join('+');
  if (runDirs.length <= 4 && names.length <= 80) return join('reports', names);
  return join(
    'reports',
    now
      .toISOString()
      .replace(/:/g, '-')
      .replace(/\.\d+Z$/, 'Z'),
  );
}

/** Writes `<out>/index.html` and one SVG per chart beside it, comparing the runs in `runDirs`. */
export async function writeReport(runDirs: readonly string[], options: ReportOptions = {}): Promise<ReportResult> {
  const now = options.now ?? new Date();
  const runs = await loadRuns(runDirs);
  const outDir = options.out ?? defaultReportDir(runDirs, now);
  await mkdir(outDir, { recursive: true });
  const rendered: RenderedChart[] = [];
  for (const chart of reportCharts(runs, { sweep: options.sweep })) {
    const svg = await renderSvg(chart.spec);
    const file = `${chart.name}.svg`;
    await writeFile(join(outDir, file), svg);
    rendered.push({
      name: chart.name,
      title: chart.title,
      caption: chart.caption,
      file,
      svg: namespaceSvgIds(svg, chart.name),
    });
  }
  const title =
    options.title ?? `depthfold: ${runs.length <= 4 ? runs.map((r) => r.label).join(' vs ') : `${runs.length} runs`}`;
  const html = join(outDir, 'index.html');
  await writeFile(html, reportHtml({ title, generated: now, runs, charts: rendered, sweep: options.sweep ?? false }));
  return { outDir, html, charts: rendered.map((c) => ({ name: c.name, file: join(outDir, c.file) })), runs };
}
