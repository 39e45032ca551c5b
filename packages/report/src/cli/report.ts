#!/usr/bin/env node
// `pnpm report RUN_DIR...`: writes an HTML report comparing training runs and says where it is.
import { processLogger as log, runCommand } from '@depthfold/core/node';
import { REPORT_HELP, parseReportCommandLine } from '../cli-args.js';
import { writeReport } from '../report.js';

async function main(): Promise<void> {
  const command = parseReportCommandLine(process.argv.slice(2));
  if (command === 'help') {
    log.info(REPORT_HELP);
    return;
  }
  const result = await writeReport(command.runDirs, command.options);
  for (const run of result.runs) log.info(`run: ${run.dir}: ${run.label}, ${run.metrics.length} epoch(s)`);
  log.info(`charts: ${result.charts.map((c) => c.file).join(', ')}`);
  log.info(`report: ${result.html}`);
}

runCommand('report', main);
