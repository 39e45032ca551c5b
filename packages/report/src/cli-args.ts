// The command line of `pnpm report`, parsed into writeReport's options (`pnpm sweep`'s is @depthfold/pipeline's).
import { parseArgs } from 'node:util';
import type { ReportOptions } from './report.js';

/** `pnpm report`'s arguments. */
export interface ReportCommand {
  runDirs: string[];
  options: ReportOptions;
}

/** The usage text of `pnpm report`. */
export const REPORT_HELP = `Usage: pnpm report RUN_DIR... [--out DIR] [--title TEXT] [--sweep]

Compares training runs (each a directory with config.json and metrics.jsonl) in a self-contained HTML report:
test error and training loss per epoch, wall time per epoch, expected vs realised depth, gradient magnitude per
stage, and a table of final and best test error, training time and images/s. Writes DIR/index.html and one SVG per
chart beside it.

Options:
  --out DIR      report directory (default: reports/<run names>, or reports/<timestamp> for many runs)
  --title TEXT   page title (default: the runs' labels)
  --sweep        add the p_L sweep chart and table (final test error vs p_L per survival rule)
  --help         print this help`;

/** Parses `pnpm report`'s argv, or returns `'help'`. */
export function parseReportCommandLine(argv: readonly string[]): ReportCommand | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        out: { type: 'string' },
        title: { type: 'string' },
        sweep: { type: 'boolean' },
        help: { type: 'boolean' },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new Error(`${(error as Error).message}\nRun with --help for the usage.`);
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  if (!positionals.length)
    throw new Error(
      'expected at least one run directory, e.g. pnpm report runs/a runs/b\nRun with --help for the usage.',
    );
  return { runDirs: positionals, options: { out: values.out, title: values.title, sweep: values.sweep ?? false } };
}
