#!/usr/bin/env node
// `pnpm train`: trains a ResNet with stochastic depth and prints where its checkpoint is.
import { SingleBar, Presets } from 'cli-progress';
import { trainConfigSchema } from '@depthfold/core';
import { helpText, parseCommandLine, processLogger as log, runCommand } from '@depthfold/core/node';
import type { StepProgress } from '../train-hooks.js';
import { train } from '../trainer.js';

const SUMMARY =
  'Trains a residual network with stochastic depth (Huang et al. 2016): the CIFAR ResNets (resnet20 ... resnet1202)\n' +
  'or the ImageNet ResNets (resnet18 ... resnet152), on Fashion-MNIST (default), MNIST or CIFAR at any input size, and\n' +
  'writes runs/<name>/{config.json,metrics.jsonl,checkpoint.safetensors}. Then `pnpm export` writes models/<name>.onnx.';

function progressReporter(): { step(p: StepProgress): void; stop(): void } {
  if (!process.stdout.isTTY) {
    let last = 0;
    return {
      step(p) {
        // Plain lines, about every 10% of an epoch, when the output is a log rather than a terminal.
        const tenth = Math.floor((10 * p.step) / p.stepsPerEpoch);
        if (tenth !== last || p.step === p.stepsPerEpoch) {
          last = tenth;
          log.info(
            `epoch ${p.epoch + 1} step ${p.step}/${p.stepsPerEpoch} loss ${p.loss.toFixed(4)} ${p.imagesPerSecond.toFixed(1)} img/s`,
          );
        }
      },
      stop() {},
    };
  }
  const bar = new SingleBar(
    { format: 'epoch {epoch} [{bar}] {value}/{total} loss {loss} {speed} img/s eta {eta_formatted}' },
    Presets.shades_classic,
  );
  let running = -1;
  return {
    step(p) {
      if (p.epoch !== running) {
        if (running >= 0) bar.stop();
        bar.start(p.stepsPerEpoch, 0, { epoch: p.epoch + 1, loss: '-', speed: '-' });
        running = p.epoch;
      }
      bar.update(p.step, { loss: p.loss.toFixed(4), speed: p.imagesPerSecond.toFixed(1) });
      if (p.step === p.stepsPerEpoch) {
        bar.stop();
        running = -1;
      }
    },
    stop: () => bar.stop(),
  };
}

async function main(): Promise<void> {
  const options = parseCommandLine(process.argv.slice(2), trainConfigSchema);
  if (options === 'help') {
    log.info(helpText('pnpm train', SUMMARY, trainConfigSchema));
    return;
  }
  const progress = progressReporter();
  const result = await train(options, {
    onStart({ backend, workers, runDir, resumedFromEpoch, config, topology }) {
      log.info(
        `backend: ${backend.name} (${backend.option}), ${workers} worker thread${workers > 1 ? 's' : ''}${backend.detail ? `; ${backend.detail}` : ''}`,
      );
      for (const failure of backend.failures) log.info(`  not available: ${failure}`);
      log.info(`precision: ${backend.precision}${backend.precisionNote ? ` (${backend.precisionNote})` : ''}`);
      log.info(`run: ${runDir}${resumedFromEpoch ? `, resumed after epoch ${resumedFromEpoch}` : ''}`);
      log.info(
        `${topology.title} on ${topology.input.height}x${topology.input.width}x${topology.input.channels}, survival ${config.survivalRule} p_L=${config.survivalProb}, ${config.epochs} epoch(s) of ${config.dataset}, batch ${config.batchSize}`,
      );
    },
    onStep: (p) => progress.step(p),
    onEpoch(m) {
      log.info(
        `epoch ${m.epoch}: train loss ${m.trainLoss.toFixed(4)} error ${(100 * m.trainError).toFixed(2)}% | ` +
          `test loss ${m.testLoss.toFixed(4)} error ${(100 * m.testError).toFixed(2)}% (${m.testExamples} images) | ` +
          `${m.imagesPerSecond.toFixed(1)} img/s, depth ${m.realisedDepth.toFixed(2)} of E=${m.expectedDepth.toFixed(2)}`,
      );
    },
  });
  progress.stop();
  log.info(`checkpoint: ${result.checkpointPath}`);
  log.info(`next: pnpm export --run ${result.runDir}`);
}

runCommand('train', main);
