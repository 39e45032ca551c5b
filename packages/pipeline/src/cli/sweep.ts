#!/usr/bin/env node
// `pnpm sweep`: trains a p_L grid run by run (resumable) and writes its report.
import { processLogger as log, runCommand } from '@depthfold/core/node';
import { parseSweepCommandLine, sweepHelp } from '../sweep-args.js';
import { runSweep } from '../sweep.js';
import { sweepDir } from '../sweep-plan.js';

async function main(): Promise<void> {
  const options = parseSweepCommandLine(process.argv.slice(2));
  if (options === 'help') {
    log.info(sweepHelp());
    return;
  }
  const result = await runSweep(options, {
    onPlan(plan) {
      const todo = plan.filter((r) => r.action !== 'skip').length;
      log.info(`sweep: ${sweepDir(options)}, ${plan.length} runs, ${plan.length - todo} finished, ${todo} to train`);
      for (const run of plan) {
        const what =
          run.action === 'skip'
            ? 'finished'
            : run.action === 'resume'
              ? `resume after epoch ${run.epochsDone}`
              : 'train';
        log.info(`  ${run.id.padEnd(22)} ${what}`);
      }
    },
    onRunStart: (run, index, total) => log.info(`[${index}/${total}] ${run.runDir}`),
    onTrainStart(_run, { backend, workers }) {
      log.info(`  backend: ${backend.name}, ${workers} worker thread${workers > 1 ? 's' : ''}`);
    },
    onEpoch(_run, m) {
      log.info(
        `  epoch ${m.epoch}: train loss ${m.trainLoss.toFixed(4)} | test error ${(100 * m.testError).toFixed(2)}% | ` +
          `${m.seconds.toFixed(1)} s, ${m.imagesPerSecond.toFixed(1)} img/s, depth ${m.realisedDepth.toFixed(2)} of E=${m.expectedDepth.toFixed(2)}`,
      );
    },
    onRunEnd(run, error) {
      if (error) log.warn(`  ${run.id} failed: ${error.message}`);
    },
  });
  if (result.report) log.info(`report: ${result.report.html}`);
  if (result.failed.length) {
    throw new Error(
      `${result.failed.length} run(s) failed: ${result.failed.map((f) => f.run.id).join(', ')}; run the same command to retry them`,
    );
  }
}

runCommand('sweep', main);
