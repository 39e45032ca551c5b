#!/usr/bin/env node
// `pnpm export`: checkpoint -> folded ONNX model in models/, verified against the trained network before it is
// written. A thin CLI over exportModel().
import { parseWith } from '@depthfold/core';
import { helpText, parseCommandLine, processLogger as log, runCommand } from '@depthfold/core/node';
import { TRITON_DEFAULTS } from '@depthfold/onnx/node';
import { exportModel, exportOptionsSchema } from '../export-model.js';

const SUMMARY =
  'Folds batch norm and the survival probabilities p_l into the conv weights, writes an ONNX model, and verifies\n' +
  'it with onnxruntime-node against the trained network in tfjs before writing.';

async function main(): Promise<void> {
  const raw = parseCommandLine(process.argv.slice(2), exportOptionsSchema);
  if (raw === 'help') {
    log.info(helpText('pnpm export', SUMMARY, exportOptionsSchema));
    return;
  }
  const options = parseWith(exportOptionsSchema, raw, 'export options');
  const r = await exportModel(options);
  log.info(`verify: ${r.probe}; tfjs reference on ${r.backend}, ONNX on onnxruntime-node (cpu)`);
  log.info(
    `verify: max |logit difference| ${r.parity.maxAbsDiff.toExponential(2)} of logits up to ${r.parity.maxAbsLogit.toFixed(2)}: ` +
      `relative ${r.parity.relativeDiff.toExponential(2)} (tolerance ${options.tolerance.toExponential(0)})`,
  );
  log.info(`verify: top-1 agreement ${r.parity.top1Agree}/${r.parity.images}`);
  log.info(
    `model: ${r.path} (${(r.bytes / 1024).toFixed(0)} KiB, ${r.folded ? 'folded' : 'unfolded'}, from epoch ${r.epoch} of ${r.checkpointPath})`,
  );
  if (r.triton !== undefined) {
    const { maxBatchSize, maxQueueDelayMicroseconds } = TRITON_DEFAULTS;
    log.info(
      `triton: ${r.triton} (1/model.onnx, config.pbtxt, labels.txt; max_batch_size ${maxBatchSize}, queue delay ${maxQueueDelayMicroseconds} us)`,
    );
  }
}

runCommand('export', main);
