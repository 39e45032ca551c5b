// @depthfold/report: HTML reports comparing training runs (Vega-Lite charts rendered to SVG), p_L sweeps, and
// model cards.
export { writeReport, defaultReportDir, type ReportOptions, type ReportResult } from './report.js';
export { loadRun, loadRuns, parseMetrics, runLabel, type RunData, type RunConfig, type MetricsLine } from './run-data.js';
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
export { reportHtml, escapeHtml, type PageInput, type RenderedChart } from './html.js';
export {
  expandGrid,
  planSweep,
  planRun,
  inspectRun,
  configDifferences,
  pointId,
  sweepDir,
  type SweepGrid,
  type SweepPoint,
  type SweepSpec,
  type SweepTrainOptions,
  type SweepAction,
  type PlannedRun,
  type RunStatus,
} from './sweep-plan.js';
export { runSweep, type SweepOptions, type SweepHooks, type SweepResult, type TrainStartInfo } from './sweep.js';
export { parseReportCommandLine, parseSweepCommandLine, sweepOptionsSchema, sweepHelp, REPORT_HELP, type ReportCommand } from './cli-args.js';
export { confusionMatrix, wilsonInterval, modelCardMarkdown, type ConfusionMatrix, type Proportion, type ModelCardInput } from './model-card.js';
