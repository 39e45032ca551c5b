#!/usr/bin/env node
// `pnpm export`: checkpoint -> folded ONNX model in models/, verified against the trained network before it is
// written (the file appears only if the ONNX logits match tfjs within the tolerance and every top-1 agrees).
import { basename, join } from 'node:path';
import { z } from 'zod';
import { createRng, deriveSeed, parseWith, type Checkpoint } from '@depthfold/core';
import {
  helpText,
  loadCheckpoint,
  parseCommandLine,
  processLogger as log,
  runCommand,
  runPaths,
} from '@depthfold/core/node';
import { buildModel, encodeModel, modelMetadata, stampIntegrity } from '@depthfold/onnx';
import { TRITON_DEFAULTS, writeModelFile, writeTritonRepository } from '@depthfold/onnx/node';
import { fillBatch, loadDataset, selectBackend } from '@depthfold/train';
import { measureParity } from '../parity.js';

const exportOptionsSchema = z
  .object({
    run: z
      .string()
      .default('runs/resnet20-fashion-mnist')
      .describe('run directory to export (its checkpoint.safetensors)'),
    checkpoint: z.string().optional().describe('checkpoint file (instead of --run)'),
    out: z
      .string()
      .optional()
      .describe('output file (default: models/<run name>.onnx, or .unfolded.onnx with --unfolded)'),
    unfolded: z
      .boolean()
      .default(false)
      .describe('keep batch norm and p_l as separate nodes (for comparison; not for serving)'),
    probe: z
      .number()
      .int()
      .positive()
      .default(64)
      .describe("images in the verification batch (test images of the run's dataset)"),
    tolerance: z.number().positive().default(1e-4).describe('largest allowed |logit difference| between ONNX and tfjs'),
    backend: z
      .enum(['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'])
      .default('auto')
      .describe('tfjs backend of the reference network'),
    triton: z
      .string()
      .min(1)
      .optional()
      .describe(
        'also write a Triton model repository to this directory: <name>/1/model.onnx, <name>/config.pbtxt, <name>/labels.txt',
      ),
  })
  .strict();

const SUMMARY =
  'Folds batch norm and the survival probabilities p_l into the conv weights, writes an ONNX model, and verifies\n' +
  'it with onnxruntime-node against the trained network in tfjs before writing.';

/** The probe batch: the first test images of the run's dataset, or seeded random pixels if it is not at hand. */
async function probeBatch(checkpoint: Checkpoint, count: number): Promise<{ pixels: Float32Array; source: string }> {
  const { config, normalization, architecture } = checkpoint.info;
  const { height, width, channels } = architecture.input;
  try {
    const data = await loadDataset(config.dataset, config.data);
    const n = Math.min(count, data.test.count);
    const pixels = new Float32Array(n * height * width * channels);
    fillBatch(
      data.test,
      Array.from({ length: n }, (_, i) => i),
      pixels,
      normalization,
    );
    return { pixels, source: `${n} ${config.dataset} test images` };
  } catch (error) {
    const rng = createRng(deriveSeed(config.seed, 'probe'));
    const pixels = Float32Array.from({ length: count * height * width * channels }, () => (rng.next() - 0.5) * 4);
    return {
      pixels,
      source: `${count} random images (dataset unavailable: ${(error as Error).message.split('\n')[0]})`,
    };
  }
}

async function main(): Promise<void> {
  const raw = parseCommandLine(process.argv.slice(2), exportOptionsSchema);
  if (raw === 'help') {
    log.info(helpText('pnpm export', SUMMARY, exportOptionsSchema));
    return;
  }
  const options = parseWith(exportOptionsSchema, raw, 'export options');
  const checkpointPath = options.checkpoint ?? runPaths(options.run).checkpoint;
  const checkpoint = await loadCheckpoint(checkpointPath);
  const folded = !options.unfolded;
  if (options.triton !== undefined && !folded)
    throw new Error('--triton exports the folded model for serving; drop --unfolded');
  const out = options.out ?? join('models', `${checkpoint.info.config.name}${folded ? '' : '.unfolded'}.onnx`);
  const metadata = modelMetadata(checkpoint, checkpoint.sha256, folded);
  // The digest of graph and weights goes into the metadata, so that @depthfold/infer refuses a file changed since.
  const bytes = await stampIntegrity(encodeModel(buildModel(checkpoint, metadata, { folded })), out);

  const backend = await selectBackend(options.backend);
  const probe = await probeBatch(checkpoint, options.probe);
  const parity = await measureParity(bytes, checkpoint, metadata, probe.pixels);
  log.info(`verify: ${probe.source}; tfjs reference on ${backend.name}, ONNX on onnxruntime-node (cpu)`);
  log.info(
    `verify: max |logit difference| ${parity.maxAbsDiff.toExponential(2)} (tolerance ${options.tolerance.toExponential(0)})`,
  );
  log.info(`verify: top-1 agreement ${parity.top1Agree}/${parity.images}`);
  if (!(parity.maxAbsDiff < options.tolerance) || parity.top1Agree !== parity.images) {
    throw new Error(`verification failed; ${out} was not written`);
  }
  await writeModelFile(out, bytes);
  log.info(
    `model: ${out} (${(bytes.length / 1024).toFixed(0)} KiB, ${folded ? 'folded' : 'unfolded'}, from epoch ${checkpoint.info.epoch} of ${checkpointPath})`,
  );
  if (options.triton !== undefined) {
    // The Triton name is the served name: the file's base name, as `pnpm serve` uses it.
    const name = basename(out).replace(/\.onnx$/i, '');
    await writeTritonRepository(options.triton, name, bytes, metadata);
    const { maxBatchSize, maxQueueDelayMicroseconds } = TRITON_DEFAULTS;
    log.info(
      `triton: ${join(options.triton, name)} (1/model.onnx, config.pbtxt, labels.txt; max_batch_size ${maxBatchSize}, queue delay ${maxQueueDelayMicroseconds} us)`,
    );
  }
}

runCommand('export', main);
