// @depthfold/report: HTML reports comparing training runs (Vega-Lite charts rendered to SVG), `pnpm report`. It
// reads run directories through @depthfold/core and loads no tfjs; sweeps and model cards are @depthfold/pipeline's.
export { writeReport, defaultReportDir, type ReportOptions, type ReportResult } from './report.js';
export { loadRun, loadRuns, runLabel, type RunData, type RunConfig } from './run-data.js';
export { summarise, runNotes, median, type RunSummary } from './summary.js';
export {
  reportCharts,
  lossErrorChart,
  epochTimeChart,
  depthChart,
  gradientChart,
  sweepChart,
  sweepPoints,
  type ChartSpec,
  type SweepPointResult,
} from './charts.js';
export { renderSvg, namespaceSvgIds } from './render-svg.js';
export { reportHtml, escapeHtml, duration, type PageInput, type RenderedChart } from './html.js';
export { parseReportCommandLine, REPORT_HELP, type ReportCommand } from './cli-args.js';
