#!/usr/bin/env node
// `pnpm train`: trains a ResNet with stochastic depth and prints where its checkpoint is.
import { SingleBar, Presets } from 'cli-progress';
import { trainConfigSchema } from '@depthfold/core';
import { helpText, parseCommandLine, processLogger as log, runCommand } from '@depthfold/core/node';
import type { DecodeProgress } from '@depthfold/images/node';
import type { DecodePassReport } from '../data/folder-data.js';
import type { StepProgress, TrainHooks } from '../train-hooks.js';
import { train } from '../trainer.js';

const SUMMARY =
  'Trains a residual network with stochastic depth (Huang et al. 2016): the CIFAR ResNets (resnet20 ... resnet1202)\n' +
  'or the ImageNet ResNets (resnet18 ... resnet152), on Fashion-MNIST (default), MNIST, CIFAR or a folder of your own\n' +
  'images (--dataset folder --data DIR) at any input size, and writes runs/<name>/{config.json,metrics.jsonl,\n' +
  'checkpoint.safetensors} (and dataset.json, the file list of a folder run). Then `pnpm export` writes\n' +
  'models/<name>.onnx. A folder run first decodes every image not yet in the decode cache, on every core; later\n' +
  'epochs and runs read the cache.';

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

/** The first pass's progress: a bar on a terminal, a few lines in a log. */
function decodeReporter(): { progress(p: DecodeProgress): void; stop(): void } {
  if (!process.stdout.isTTY) {
    let last = -1;
    return {
      progress(p) {
        const tenth = Math.floor((10 * p.done) / Math.max(1, p.total));
        if (tenth !== last && p.decoded > 0) {
          last = tenth;
          log.info(`decode ${p.done}/${p.total} (${p.cached} cached) ${p.imagesPerSecond.toFixed(0)} images/s`);
        }
      },
      stop() {},
    };
  }
  const bar = new SingleBar(
    {
      format: 'decode [{bar}] {value}/{total} images, {cached} cached, {bad} bad, {speed} images/s eta {eta_formatted}',
    },
    Presets.shades_classic,
  );
  let started = false;
  return {
    progress(p) {
      const values = { cached: p.cached, bad: p.bad, speed: p.imagesPerSecond.toFixed(0) };
      if (!started) {
        bar.start(p.total, p.done, values);
        started = true;
      }
      bar.update(p.done, values);
    },
    stop: () => {
      if (started) bar.stop();
      started = false;
    },
  };
}

function dataLines(r: DecodePassReport): string[] {
  const modes = Object.entries(r.modes)
    .map(([split, mode]) => `${split} ${mode === 'memory' ? 'in memory' : 'streamed'}`)
    .join(', ');
  return [
    `data: ${r.images} images (${r.ignored} other files ignored); ${r.decoded} decoded` +
      (r.decoded > 0
        ? ` in ${r.seconds.toFixed(1)} s, ${r.imagesPerSecond.toFixed(0)} images/s on ${r.threads} threads`
        : '') +
      `, ${r.cached} from the cache (${r.cacheFolders.join(', ')}); ${modes}; ready in ${r.readySeconds.toFixed(1)} s`,
    ...(r.skipped.length > 0
      ? [
          `skipped ${r.skipped.length} image${r.skipped.length === 1 ? '' : 's'} that cannot be decoded: listed in ${r.skippedList}`,
        ]
      : []),
  ];
}

async function main(): Promise<void> {
  const options = parseCommandLine(process.argv.slice(2), trainConfigSchema);
  if (options === 'help') {
    log.info(helpText('pnpm train', SUMMARY, trainConfigSchema));
    return;
  }
  const progress = progressReporter();
  const decoding = decodeReporter();
  const hooks: TrainHooks = {
    onDecode: (p) => decoding.progress(p),
    onData(report) {
      decoding.stop();
      for (const line of dataLines(report)) log.info(line);
    },
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
          // Validation comes first where there is one: it, not the test set, chooses the epoch.
          (m.validationError === undefined
            ? ''
            : `validation loss ${m.validationLoss?.toFixed(4)} error ${(100 * m.validationError).toFixed(2)}% | `) +
          `test loss ${m.testLoss.toFixed(4)} error ${(100 * m.testError).toFixed(2)}% (${m.testExamples} images) | ` +
          `${m.imagesPerSecond.toFixed(1)} img/s, data wait ${(100 * m.dataWaitShare).toFixed(1)}%, depth ${m.realisedDepth.toFixed(2)} of E=${m.expectedDepth.toFixed(2)}`,
      );
    },
  };
  // A run stopped by an error (a bad image names itself in one line) leaves no bar running over its message.
  const result = await train(options, hooks).finally(() => {
    decoding.stop();
    progress.stop();
  });
  log.info(`checkpoint: ${result.checkpointPath}`);
  log.info(`next: pnpm export --run ${result.runDir}`);
}

runCommand('train', main);
