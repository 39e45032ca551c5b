// The command line of `pnpm sweep`, parsed into runSweep's options: the train options a sweep shares, and its grid.
import { z } from 'zod';
import { SURVIVAL_RULES, networkOptions, parseWith, trainConfigSchema, type SurvivalRule } from '@depthfold/core';
import { helpText, parseCommandLine } from '@depthfold/core/node';
import type { SweepOptions } from './sweep.js';

const NAME = /^[A-Za-z0-9._-]+$/;

/** Every option of `pnpm sweep`: the train options a sweep shares, and what it varies. */
export const sweepOptionsSchema = trainConfigSchema
  .omit({ name: true, runDir: true, survivalRule: true, survivalProb: true, resume: true })
  .extend({
    name: z
      .string()
      .regex(NAME, 'letters, digits, ".", "_" or "-"')
      .optional()
      .describe(
        'sweep name: runs go to <runs>/sweep-NAME/<rule>-d<depth>-p<pL> (default: <dataset>-d<depths>-e<epochs>)',
      ),
    rules: z
      .string()
      .default('linear,uniform')
      .describe(`comma-separated survival rules (${SURVIVAL_RULES.join(', ')}; none = constant depth)`),
    survivalProbs: z
      .string()
      .default('0.2,0.4,0.5,0.6,0.8,1')
      .describe('comma-separated p_L values; 1 is constant depth, trained once for every rule'),
    depths: z.string().optional().describe('comma-separated depths 6n+2 to sweep (default: --depth)'),
    runs: z.string().default('runs').describe('folder that holds the sweep directory'),
    out: z.string().optional().describe('report directory (default: reports/sweep-NAME)'),
    title: z.string().optional().describe('report title'),
  });

/** The summary line of `pnpm sweep --help`. */
export const SWEEP_SUMMARY =
  'Trains a grid of runs over p_L (and depths) for each survival rule with one budget (same epochs, data and seed),\n' +
  'one after another, then writes a report with final test error vs p_L (Huang et al. 2016, Fig. 8). Resumable: run\n' +
  'the same command again and finished runs are skipped, a partial run continues from its checkpoint.';

/** The help text of `pnpm sweep`. */
export function sweepHelp(): string {
  return helpText('pnpm sweep', SWEEP_SUMMARY, sweepOptionsSchema);
}

/** A comma-separated list, each item parsed by `item`; the error names the flag. */
export function parseList<T>(text: string, flag: string, expected: string, item: (s: string) => T | undefined): T[] {
  const parts = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const values = parts.map(item);
  if (!parts.length || values.some((v) => v === undefined)) {
    throw new Error(`--${flag}: expected ${expected} separated by commas, received ${JSON.stringify(text)}`);
  }
  return values as T[];
}

/** Parses `pnpm sweep`'s argv into runSweep's options, or returns `'help'`. */
export function parseSweepCommandLine(argv: readonly string[]): SweepOptions | 'help' {
  const raw = parseCommandLine(argv, sweepOptionsSchema);
  if (raw === 'help') return 'help';
  const { name, rules, survivalProbs, depths, runs, out, title, ...train } = parseWith(
    sweepOptionsSchema,
    raw,
    'sweep',
  );
  const grid = {
    rules: parseList(rules, 'rules', SURVIVAL_RULES.join(' or '), (s) =>
      SURVIVAL_RULES.includes(s as SurvivalRule) ? (s as SurvivalRule) : undefined,
    ),
    depths:
      depths === undefined
        ? [networkOptions({ arch: train.arch, overrides: { depth: train.depth } }).options.depth as number]
        : parseList(depths, 'depths', 'depths 6n+2', (s) => (/^\d+$/.test(s) ? Number(s) : undefined)),
    survivalProbs: parseList(survivalProbs, 'survival-probs', 'numbers in (0, 1]', (s) => {
      const n = Number(s);
      return s !== '' && n > 0 && n <= 1 ? n : undefined;
    }),
  };
  // A name derived from the budget: the same command run again finds, and continues, the same sweep.
  const sweepName = name ?? `${train.dataset}-d${grid.depths.join('-')}-e${train.epochs}`;
  const { depth: _depth, ...shared } = train;
  return { name: sweepName, root: runs, grid, train: shared, out, title };
}
