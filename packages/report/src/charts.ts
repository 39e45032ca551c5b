// The report's charts as Vega-Lite specs: Huang et al. 2016's Fig. 3 (test error and training loss per epoch,
// constant vs stochastic depth), Fig. 7 (mean gradient magnitude per epoch) and Fig. 8 (final test error vs p_L per
// survival rule), plus wall time per epoch and expected vs realised depth.
import type { TopLevelSpec } from 'vega-lite';
import type { RunData } from './run-data.js';
import { summarise } from './summary.js';

/** A chart of the report: its file name (without `.svg`), caption and Vega-Lite spec. */
export interface ChartSpec {
  name: string;
  title: string;
  caption: string;
  spec: TopLevelSpec;
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
// Paper order of the network's parts; the trainer names them so (`stem`, `stage1`..`stage3`).
const PARTS = ['stem', 'stage1', 'stage2', 'stage3'];

/** Colour of each run, fixed by run order so that a run has one colour in every chart. */
function runColor(runs: readonly RunData[]) {
  return {
    field: 'run',
    type: 'nominal' as const,
    title: 'run',
    scale: { domain: runs.map((r) => r.label), scheme: runs.length > 10 ? 'tableau20' : 'tableau10' },
    legend: { labelLimit: 320, orient: 'bottom' as const, columns: 1 },
  };
}

function epochAxis(runs: readonly RunData[]) {
  const last = Math.max(...runs.map((r) => r.metrics[r.metrics.length - 1]!.epoch));
  // Start at 0 so that a one-epoch run is a point inside the plot rather than on its edge.
  return {
    field: 'epoch',
    type: 'quantitative' as const,
    title: 'epoch',
    scale: { domain: [0, Math.max(last, 1)], nice: false },
    axis: { tickMinStep: 1, format: 'd' },
  };
}

const config = {
  view: { stroke: null },
  font: 'Helvetica, Arial, sans-serif',
  title: { anchor: 'start' as const, fontSize: 14 },
};

/**
 * Test error (solid; validation error dotted, for runs that hold a split out) and training loss (dashed) per
 * epoch, side by side: the paper's Fig. 3.
 */
export function lossErrorChart(runs: readonly RunData[]): ChartSpec {
  const values = runs.flatMap((run) =>
    run.metrics.flatMap((m) => [
      { run: run.label, epoch: m.epoch, split: 'test', error: m.testError ?? null, trainLoss: m.trainLoss ?? null },
      ...(typeof m.validationError === 'number'
        ? [{ run: run.label, epoch: m.epoch, split: 'validation', error: m.validationError, trainLoss: null }]
        : []),
    ]),
  );
  const hasValidation = values.some((v) => v.split === 'validation');
  const panel = (field: 'error' | 'trainLoss', title: string) => ({
    title,
    width: 340,
    height: 240,
    transform: [{ filter: `isValid(datum.${field}) && isFinite(datum.${field})` }],
    mark: {
      type: 'line' as const,
      point: true,
      strokeWidth: 2,
      ...(field === 'trainLoss' ? { strokeDash: [6, 4] } : {}),
    },
    encoding: {
      x: epochAxis(runs),
      y: {
        field,
        type: 'quantitative' as const,
        title: field === 'error' ? 'error' : 'training loss',
        scale: { zero: false },
        ...(field === 'error' ? { axis: { format: '.0%' } } : {}),
      },
      color: runColor(runs),
      // One line per run and split; the dash tells the splits apart.
      ...(field === 'error'
        ? {
            detail: { field: 'split', type: 'nominal' as const },
            strokeDash: {
              field: 'split',
              type: 'nominal' as const,
              title: 'split',
              scale: {
                domain: ['test', 'validation'],
                range: [
                  [1, 0],
                  [2, 3],
                ],
              },
              legend: hasValidation ? { orient: 'bottom' as const } : null,
            },
          }
        : {}),
    },
  });
  return {
    name: 'loss-error',
    title: 'Test error and training loss per epoch',
    caption:
      'Solid: test error after each epoch' +
      (hasValidation ? '; dotted: validation error (the held-out split used to choose a model)' : '') +
      '. Dashed: mean training loss over the epoch (with blocks dropped, so it is not comparable to a test loss). ' +
      "The paper's Figure 3 compares constant and stochastic depth this way.",
    spec: {
      $schema: SCHEMA,
      config,
      data: { values },
      hconcat: [
        panel('error', hasValidation ? 'Test (solid) and validation (dotted) error' : 'Test error (solid)'),
        panel('trainLoss', 'Training loss (dashed)'),
      ],
    },
  };
}

/** Training seconds per epoch. */
export function epochTimeChart(runs: readonly RunData[]): ChartSpec {
  const values = runs.flatMap((run) =>
    run.metrics
      .filter((m) => typeof m.seconds === 'number')
      .map((m) => ({ run: run.label, epoch: m.epoch, seconds: m.seconds })),
  );
  return {
    name: 'epoch-time',
    title: 'Wall time per epoch',
    caption:
      'Seconds of training steps per epoch (evaluation excluded). Stochastic depth saves the time of the blocks it ' +
      'drops: about 25% at linear p_L = 0.5.',
    spec: {
      $schema: SCHEMA,
      config,
      title: 'Training seconds per epoch',
      width: 480,
      height: 240,
      data: { values },
      mark: { type: 'line', point: true, strokeWidth: 2 },
      encoding: {
        x: epochAxis(runs),
        y: { field: 'seconds', type: 'quantitative', title: 'seconds' },
        color: runColor(runs),
      },
    },
  };
}

/** Expected E[L'] and realised residual blocks per step, with the network's L, per run. */
export function depthChart(runs: readonly RunData[]): ChartSpec {
  const EXPECTED = "expected E[L'] = sum of p_l";
  const REALISED = 'realised (mean blocks run per step)';
  const values = runs.flatMap((run) => {
    const s = summarise(run);
    const rows: { run: string; measure: string; blocks: number }[] = [];
    if (s.expectedDepth !== undefined) rows.push({ run: run.label, measure: EXPECTED, blocks: s.expectedDepth });
    if (s.realisedDepth !== undefined) rows.push({ run: run.label, measure: REALISED, blocks: s.realisedDepth });
    return rows;
  });
  // L = (depth - 2) / 2 residual blocks in a CIFAR ResNet-(6n+2): the depth with no block dropped.
  const totals = runs
    .filter((r) => r.config.depth !== undefined)
    .map((r) => ({ run: r.label, blocks: (r.config.depth! - 2) / 2 }));
  const y = {
    field: 'run',
    type: 'nominal' as const,
    title: null,
    sort: runs.map((r) => r.label),
    axis: { labelLimit: 320 },
  };
  return {
    name: 'depth',
    title: 'Expected vs realised depth',
    caption:
      "Residual blocks per training step: the expectation E[L'] = sum of p_l and the mean number that actually ran " +
      '(over all epochs); the tick marks L, every block. The two bars should agree to within sampling noise.',
    spec: {
      $schema: SCHEMA,
      config,
      title: 'Residual blocks run per training step',
      width: 420,
      layer: [
        {
          data: { values },
          mark: { type: 'bar', height: { band: 0.8 } },
          encoding: {
            y,
            yOffset: { field: 'measure', type: 'nominal', sort: [EXPECTED, REALISED] },
            x: { field: 'blocks', type: 'quantitative', title: 'residual blocks' },
            color: {
              field: 'measure',
              type: 'nominal',
              title: null,
              sort: [EXPECTED, REALISED],
              legend: { orient: 'bottom', labelLimit: 320 },
            },
          },
        },
        {
          data: { values: totals },
          mark: { type: 'tick', color: '#333', thickness: 2 },
          encoding: { y, x: { field: 'blocks', type: 'quantitative' } },
        },
      ],
    },
  };
}

/** Whether any epoch of any run recorded gradient magnitudes. */
export function hasGradients(runs: readonly RunData[]): boolean {
  return runs.some((r) => r.metrics.some((m) => m.gradMagnitude && Object.keys(m.gradMagnitude).length));
}

/** Mean |dL/dW| per part of the network per epoch, one panel per part: the paper's vanishing-gradient Fig. 7. */
export function gradientChart(runs: readonly RunData[]): ChartSpec {
  const values = runs.flatMap((run) =>
    run.metrics.flatMap((m) =>
      Object.entries(m.gradMagnitude ?? {})
        // A log scale cannot place 0 (a stage whose every block was dropped all epoch).
        .filter((entry): entry is [string, number] => typeof entry[1] === 'number' && entry[1] > 0)
        .map(([part, magnitude]) => ({ run: run.label, epoch: m.epoch, part, magnitude })),
    ),
  );
  const parts = [...new Set(values.map((v) => v.part))].sort((a, b) => {
    const ia = PARTS.indexOf(a);
    const ib = PARTS.indexOf(b);
    return (ia < 0 ? PARTS.length : ia) - (ib < 0 ? PARTS.length : ib) || a.localeCompare(b);
  });
  return {
    name: 'grad-magnitude',
    title: 'Mean gradient magnitude per stage',
    caption:
      "Mean |dL/dW| over each epoch's steps, of the stem conv and of the first conv of each block that ran, per stage " +
      "(log scale). The paper's Figure 7: stochastic depth keeps the gradients of early layers larger.",
    spec: {
      $schema: SCHEMA,
      config,
      title: 'Mean gradient magnitude |dL/dW| per epoch',
      data: { values },
      facet: { column: { field: 'part', type: 'nominal', title: null, sort: parts, header: { labelFontSize: 12 } } },
      spec: {
        width: 170,
        height: 200,
        mark: { type: 'line', point: true, strokeWidth: 2 },
        encoding: {
          x: epochAxis(runs),
          y: {
            field: 'magnitude',
            type: 'quantitative',
            title: 'mean |dL/dW|',
            scale: { type: 'log' },
            axis: { format: '.1e' },
          },
          color: runColor(runs),
        },
      },
    },
  };
}

/** A point of the survival sweep: the final test error of one finished run. */
export interface SweepPointResult {
  rule: string;
  depth: number;
  survivalProb: number;
  testError: number;
}

/**
 * The sweep's points by rule: each rule's runs, plus the constant-depth run of the same depth at p_L = 1 (where
 * every rule is constant depth, so a sweep trains it once).
 */
export function sweepPoints(runs: readonly RunData[]): SweepPointResult[] {
  const finished = runs
    .map((run) => ({ run, s: summarise(run) }))
    .filter(
      ({ run, s }) =>
        s.finalTestError !== undefined && run.config.depth !== undefined && (run.config.epochs ?? 0) <= s.epochsDone,
    );
  const points: SweepPointResult[] = [];
  const constant = finished.filter(({ run }) => run.config.survivalRule === 'none' || run.config.survivalProb === 1);
  const rules = [
    ...new Set(finished.map(({ run }) => run.config.survivalRule).filter((r) => r !== undefined && r !== 'none')),
  ] as string[];
  for (const { run, s } of finished) {
    if (
      run.config.survivalRule === 'none' ||
      run.config.survivalRule === undefined ||
      run.config.survivalProb === undefined
    )
      continue;
    if (run.config.survivalProb === 1) continue;
    points.push({
      rule: run.config.survivalRule,
      depth: run.config.depth!,
      survivalProb: run.config.survivalProb,
      testError: s.finalTestError!,
    });
  }
  for (const { run, s } of constant) {
    for (const rule of rules)
      points.push({ rule, depth: run.config.depth!, survivalProb: 1, testError: s.finalTestError! });
  }
  return points.sort((a, b) => a.rule.localeCompare(b.rule) || a.depth - b.depth || a.survivalProb - b.survivalProb);
}

/** Final test error vs p_L, one line per survival rule (and depth): the paper's Fig. 8. */
export function sweepChart(runs: readonly RunData[]): ChartSpec {
  const points = sweepPoints(runs);
  const depths = new Set(points.map((p) => p.depth));
  const values = points.map((p) => ({ ...p, series: depths.size > 1 ? `${p.rule}, ResNet-${p.depth}` : p.rule }));
  // The constant-depth baseline as a dashed rule across the chart, so each rule's points read as better or worse.
  const baselines = [...new Map(points.filter((p) => p.survivalProb === 1).map((p) => [p.depth, p])).values()].map(
    (p) => ({
      testError: p.testError,
      label: depths.size > 1 ? `constant depth, ResNet-${p.depth}` : 'constant depth',
    }),
  );
  return {
    name: 'survival-sweep',
    title: 'Final test error vs p_L',
    caption:
      'Test error after the last epoch of each finished run, against the survival probability p_L of the last block, ' +
      "one line per survival rule; at p_L = 1 both rules are constant depth (one run). The paper's Figure 8.",
    spec: {
      $schema: SCHEMA,
      config,
      title: 'Final test error vs p_L',
      width: 420,
      height: 260,
      layer: [
        {
          data: { values: baselines },
          mark: { type: 'rule', strokeDash: [4, 4], color: '#888' },
          encoding: { y: { field: 'testError', type: 'quantitative' } },
        },
        {
          data: { values: baselines },
          mark: { type: 'text', align: 'left', dx: 4, dy: -6, color: '#666', fontSize: 10 },
          encoding: { y: { field: 'testError', type: 'quantitative' }, x: { datum: 0 }, text: { field: 'label' } },
        },
        {
          data: { values },
          mark: { type: 'line', point: { size: 50 }, strokeWidth: 2 },
          encoding: {
            x: {
              field: 'survivalProb',
              type: 'quantitative',
              title: 'p_L (survival probability of the last block)',
              scale: { domain: [0, 1] },
            },
            y: {
              field: 'testError',
              type: 'quantitative',
              title: 'final test error',
              scale: { zero: false },
              axis: { format: '.1%' },
            },
            color: { field: 'series', type: 'nominal', title: 'survival rule', legend: { orient: 'bottom' } },
          },
        },
      ],
    },
  };
}

/** The charts of a report on `runs`: the gradient chart only where some run recorded gradients. */
export function reportCharts(runs: readonly RunData[], options: { sweep?: boolean } = {}): ChartSpec[] {
  const charts = [lossErrorChart(runs), epochTimeChart(runs), depthChart(runs)];
  if (hasGradients(runs)) charts.push(gradientChart(runs));
  if (options.sweep && sweepPoints(runs).length) charts.push(sweepChart(runs));
  return charts;
}
