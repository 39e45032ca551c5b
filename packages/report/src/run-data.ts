// A run directory read for reporting: its config and per-epoch metrics (@depthfold/core's run format, whose metrics
// line tolerates the fields older runs lack).
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { z } from 'zod';
import { parseWith, type MetricsLine } from '@depthfold/core';
import { readMetrics, runPaths } from '@depthfold/core/node';

// The config fields a report labels and compares runs by; the rest is kept as-is for the settings table.
const runConfigSchema = z.looseObject({
  name: z.string().optional(),
  dataset: z.string().optional(),
  depth: z.number().optional(),
  survivalRule: z.string().optional(),
  survivalProb: z.number().optional(),
  epochs: z.number().optional(),
});

/** The config of a run as the report reads it: the fields it uses, typed, and every other field kept. */
export type RunConfig = z.output<typeof runConfigSchema>;

/** A run directory loaded for a report. */
export interface RunData {
  /** The directory as given. */
  dir: string;
  /** The directory's base name, e.g. `linear-d20-p0.5`. */
  name: string;
  /** A label saying what was trained, unique within a report, e.g. `ResNet-20 linear p_L=0.5`. */
  label: string;
  config: RunConfig;
  /** One line per epoch, in epoch order. */
  metrics: MetricsLine[];
}

/** The label of a run from its config: `ResNet-20 linear p_L=0.5`, `ResNet-20 constant depth`. */
export function runLabel(config: RunConfig, fallback: string): string {
  if (config.depth === undefined) return fallback;
  const net = `ResNet-${config.depth}`;
  if (config.survivalRule === 'none' || config.survivalProb === 1) return `${net} constant depth`;
  if (config.survivalRule === undefined) return `${net} p_L=${config.survivalProb ?? '?'}`;
  return `${net} ${config.survivalRule} p_L=${config.survivalProb ?? '?'}`;
}

async function readJsonFile(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new Error(`${what}: ${path} is missing (not a run directory, or one that has not started)`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new Error(`${what}: ${path} is not valid JSON (${(error as Error).message})`);
  }
}

/** Reads one run directory; the error names the directory and the file that is missing or wrong. */
export async function loadRun(dir: string): Promise<RunData> {
  const where = `run ${dir}`;
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) throw new Error(`${where}: no such directory`);
  const paths = runPaths(dir);
  if (!existsSync(paths.metrics)) {
    throw new Error(
      `${where}: ${paths.metrics} is missing (not a run directory, or a run that has not finished an epoch)`,
    );
  }
  const metrics = await readMetrics(dir);
  if (metrics.length === 0) throw new Error(`${where}: ${paths.metrics} has no epochs yet`);
  const rawConfig = await readJsonFile(paths.config, where);
  const config = parseWith(runConfigSchema, rawConfig, `${where}: ${paths.config}`);
  const name = basename(resolve(dir));
  return { dir, name, label: runLabel(config, name), config, metrics };
}

/** Loads runs in order and makes their labels unique (a repeated label gets the directory name appended). */
export async function loadRuns(dirs: readonly string[]): Promise<RunData[]> {
  if (dirs.length === 0) throw new Error('no run directories given');
  const runs: RunData[] = [];
  for (const dir of dirs) runs.push(await loadRun(dir));
  const counts = new Map<string, number>();
  for (const run of runs) counts.set(run.label, (counts.get(run.label) ?? 0) + 1);
  for (const run of runs) if (counts.get(run.label)! > 1) run.label = `${run.label} (${run.name})`;
  // Two directories with one base name and one config would still collide; fall back to the path as given.
  const seen = new Set<string>();
  for (const run of runs) {
    if (seen.has(run.label)) run.label = `${run.label} [${run.dir}]`;
    seen.add(run.label);
  }
  return runs;
}
