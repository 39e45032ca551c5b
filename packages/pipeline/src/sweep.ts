// `runSweep`: trains a sweep's runs one after another through the trainer (skipping finished runs, resuming partial
// ones), then writes its report with the final test error vs p_L chart.
import { join } from 'node:path';
import type { EpochMetrics } from '@depthfold/core';
import { writeReport, type ReportResult } from '@depthfold/report';
import { train, type TrainHooks } from '@depthfold/train';
import { inspectRun, planSweep, type PlannedRun, type SweepSpec } from './sweep-plan.js';

/** What the trainer reports when a run starts. */
export type TrainStartInfo = Parameters<NonNullable<TrainHooks['onStart']>>[0];

/** Callbacks of {@link runSweep}; all optional. */
export interface SweepHooks {
  onPlan?(plan: readonly PlannedRun[]): void;
  /** Before a run that is trained (not for skipped ones); `index` counts from 1 over the whole plan. */
  onRunStart?(run: PlannedRun, index: number, total: number): void;
  onTrainStart?(run: PlannedRun, info: TrainStartInfo): void;
  onEpoch?(run: PlannedRun, metrics: EpochMetrics): void;
  /** After a run trained, or failed with `error`. */
  onRunEnd?(run: PlannedRun, error?: Error): void;
}

/** Options of {@link runSweep}: the sweep, and where its report goes. */
export interface SweepOptions extends SweepSpec {
  /** Report directory (default `reports/sweep-<name>`). */
  out?: string;
  /** Report title (default: `Sweep <name>: ...`). */
  title?: string;
}

/** What a sweep did. */
export interface SweepResult {
  plan: PlannedRun[];
  /** Runs trained in this call (started or resumed) that finished. */
  trained: PlannedRun[];
  /** Runs that failed, with why; the sweep went on with the others. */
  failed: { run: PlannedRun; error: Error }[];
  /** The report, unless no run has finished an epoch. */
  report: ReportResult | undefined;
}

/** A default report title naming what the sweep varied and its budget. */
function sweepTitle(options: SweepOptions, plan: readonly PlannedRun[]): string {
  const config = plan[0]!.config;
  const depths = [...new Set(plan.map((r) => r.depth))].map((d) => `ResNet-${d}`).join(', ');
  const limit = config.trainLimit ? `${config.trainLimit} images of ` : '';
  return `Sweep ${options.name}: ${depths}, ${config.epochs} epoch${config.epochs === 1 ? '' : 's'} on ${limit}${config.dataset}, seed ${config.seed}`;
}

/**
 * Trains every run of the sweep that is not finished, sequentially (one run uses the machine's cores), then writes
 * the report. A failing run (say, a diverging loss) is recorded and the sweep goes on.
 */
export async function runSweep(options: SweepOptions, hooks: SweepHooks = {}): Promise<SweepResult> {
  const plan = await planSweep(options);
  hooks.onPlan?.(plan);
  const trained: PlannedRun[] = [];
  const failed: { run: PlannedRun; error: Error }[] = [];
  for (const [i, run] of plan.entries()) {
    if (run.action === 'skip') continue;
    hooks.onRunStart?.(run, i + 1, plan.length);
    try {
      await train(run.config, {
        onStart: (info) => hooks.onTrainStart?.(run, info),
        onEpoch: (metrics) => hooks.onEpoch?.(run, metrics),
      });
      trained.push(run);
      hooks.onRunEnd?.(run);
    } catch (error) {
      const err = error instanceof Error ? error : new Error(String(error));
      failed.push({ run, error: err });
      hooks.onRunEnd?.(run, err);
    }
  }
  const reportable: string[] = [];
  for (const run of plan) if ((await inspectRun(run.runDir)).epochsDone > 0) reportable.push(run.runDir);
  const report = reportable.length
    ? await writeReport(reportable, {
        out: options.out ?? join('reports', `sweep-${options.name}`),
        title: options.title ?? sweepTitle(options, plan),
        sweep: true,
      })
    : undefined;
  return { plan, trained, failed, report };
}
