// Plans a survival-probability sweep (Huang et al. 2016, Fig. 8): the grid of runs over rules, depths and p_L with
// one fixed budget (epochs, seed, data), and for each run whether it is done, to resume from its checkpoint or to
// start, so that a sweep interrupted half-way continues where it stopped.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  SURVIVAL_RULES,
  parseWith,
  trainConfigSchema,
  type SurvivalRule,
  type TrainConfig,
  type TrainConfigInput,
} from '@depthfold/core';
import { readMetrics, runPaths } from '@depthfold/core/node';

/** What a sweep varies. */
export interface SweepGrid {
  rules: readonly SurvivalRule[];
  depths: readonly number[];
  survivalProbs: readonly number[];
}

/** One run of the grid. */
export interface SweepPoint {
  /** `<rule>-d<depth>-p<pL>`: the run's directory name. */
  id: string;
  rule: SurvivalRule;
  depth: number;
  survivalProb: number;
}

/** The train options a sweep's runs share: everything but what the sweep sets per run. */
export type SweepTrainOptions = Omit<
  TrainConfigInput,
  'name' | 'runDir' | 'depth' | 'survivalRule' | 'survivalProb' | 'resume'
>;

/** Where a sweep lives and what it trains. */
export interface SweepSpec {
  /** The sweep's name: its runs go to `<root>/sweep-<name>/`. */
  name: string;
  /** Folder of the sweep directory (default `runs`). */
  root?: string;
  grid: SweepGrid;
  train: SweepTrainOptions;
}

/** `skip`: finished; `resume`: continue from its checkpoint; `start`: train from scratch. */
export type SweepAction = 'skip' | 'resume' | 'start';

/** A run of the sweep with what to do about it. */
export interface PlannedRun extends SweepPoint {
  runDir: string;
  action: SweepAction;
  /** Epochs already in its metrics.jsonl. */
  epochsDone: number;
  /** The config to train it with (`resume` set for a run to continue). */
  config: TrainConfig;
}

/** What is on disk for a run. */
export interface RunStatus {
  epochsDone: number;
  hasCheckpoint: boolean;
  /** Its config.json, if it has one. */
  config: Record<string, unknown> | undefined;
}

/** The id, and directory name, of a grid point: `linear-d20-p0.5`. */
export function pointId(rule: SurvivalRule, depth: number, survivalProb: number): string {
  return `${rule}-d${depth}-p${survivalProb}`;
}

/** The directory a sweep's runs go to. */
export function sweepDir(spec: Pick<SweepSpec, 'name' | 'root'>): string {
  return join(spec.root ?? 'runs', `sweep-${spec.name}`);
}

/**
 * The runs of a grid, per depth: constant depth first (the baseline), then each rule's p_L values in the order
 * given. p_L = 1 under any rule is constant depth (every p_l = 1), so it is trained once, as rule `none`, and the
 * report puts it on every rule's line.
 */
export function expandGrid(grid: SweepGrid): SweepPoint[] {
  if (!grid.rules.length) throw new Error('no survival rules to sweep');
  if (!grid.depths.length) throw new Error('no depths to sweep');
  for (const rule of grid.rules) {
    if (!SURVIVAL_RULES.includes(rule))
      throw new Error(`rule: expected one of ${SURVIVAL_RULES.join(', ')}, received ${JSON.stringify(rule)}`);
  }
  for (const p of grid.survivalProbs) {
    if (!(p > 0 && p <= 1)) throw new Error(`p_L: expected numbers in (0, 1], received ${p}`);
  }
  const stochastic = grid.rules.filter((r) => r !== 'none');
  if (stochastic.length && !grid.survivalProbs.length) throw new Error('no p_L values to sweep');
  const constant = grid.rules.includes('none') || (stochastic.length > 0 && grid.survivalProbs.includes(1));
  const points: SweepPoint[] = [];
  for (const depth of new Set(grid.depths)) {
    if (constant) points.push({ id: pointId('none', depth, 1), rule: 'none', depth, survivalProb: 1 });
    for (const rule of new Set(stochastic)) {
      for (const p of new Set(grid.survivalProbs)) {
        if (p !== 1) points.push({ id: pointId(rule, depth, p), rule, depth, survivalProb: p });
      }
    }
  }
  return points;
}

/** Reads what a run directory holds (nothing, for a directory that does not exist). */
export async function inspectRun(runDir: string): Promise<RunStatus> {
  const paths = runPaths(runDir);
  const configText = await readFile(paths.config, 'utf8').catch(() => undefined);
  let config: Record<string, unknown> | undefined;
  if (configText !== undefined) {
    try {
      config = JSON.parse(configText) as Record<string, unknown>;
    } catch {
      throw new Error(`${paths.config} is not valid JSON; delete ${runDir} to train that run again`);
    }
  }
  return { epochsDone: (await readMetrics(runDir)).length, hasCheckpoint: existsSync(paths.checkpoint), config };
}

// Settings that name, locate or schedule a run on a machine and do not change what it learns; every other setting
// must match for a run to count as part of the sweep (a resumed run keeps its stored settings, so a silent
// difference would mix budgets in one chart).
const NOT_COMPARED = new Set<keyof TrainConfig>([
  'name',
  'runDir',
  'data',
  'backend',
  'workers',
  'threads',
  'resume',
  'evalBatchSize',
]);

/** The settings in which a stored run differs from the one the sweep asks for, as `key: stored -> asked`. */
export function configDifferences(stored: Record<string, unknown>, asked: TrainConfig): string[] {
  // Fill the stored config's defaults the way the trainer did (a field it lacks was at its default), ignoring fields
  // this version does not know.
  const known = Object.fromEntries(Object.entries(stored).filter(([k]) => k in trainConfigSchema.shape));
  let recorded: TrainConfig;
  try {
    recorded = parseWith(trainConfigSchema, known, 'config.json');
  } catch (error) {
    return [(error as Error).message];
  }
  const differences: string[] = [];
  for (const key of Object.keys(trainConfigSchema.shape) as (keyof TrainConfig)[]) {
    if (NOT_COMPARED.has(key)) continue;
    const a = JSON.stringify(recorded[key]);
    const b = JSON.stringify(asked[key]);
    if (a !== b) differences.push(`${key}: ${a ?? 'unset'} -> ${b ?? 'unset'}`);
  }
  return differences;
}

/** What to do about one run, given what is on disk; throws where the stored run was trained differently. */
export function planRun(point: SweepPoint, runDir: string, config: TrainConfig, status: RunStatus): PlannedRun {
  const started = status.epochsDone > 0 || status.hasCheckpoint;
  if (started && status.config) {
    const differences = configDifferences(status.config, config);
    if (differences.length) {
      throw new Error(
        `${runDir} was trained with other settings (${differences.join(', ')}); every run of a sweep shares ` +
          'one budget: choose another --name, or delete that run directory to train it again',
      );
    }
  }
  let action: SweepAction;
  if (status.epochsDone >= config.epochs) action = 'skip';
  else if (status.hasCheckpoint) action = 'resume';
  // Epochs without a checkpoint cannot be continued; the trainer starts the run over and rewrites its metrics.
  else action = 'start';
  return {
    ...point,
    runDir,
    action,
    epochsDone: status.epochsDone,
    config: { ...config, resume: action === 'resume' },
  };
}

/** The sweep's runs and what to do about each. */
export async function planSweep(spec: SweepSpec): Promise<PlannedRun[]> {
  const dir = sweepDir(spec);
  const plan: PlannedRun[] = [];
  for (const point of expandGrid(spec.grid)) {
    const runDir = join(dir, point.id);
    const config = parseWith(
      trainConfigSchema,
      {
        ...spec.train,
        name: `${spec.name}-${point.id}`,
        runDir,
        depth: point.depth,
        survivalRule: point.rule,
        survivalProb: point.survivalProb,
        resume: false,
      },
      `sweep run ${point.id}`,
    );
    plan.push(planRun(point, runDir, config, await inspectRun(runDir)));
  }
  return plan;
}
