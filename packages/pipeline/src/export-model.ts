// Export: checkpoint -> folded ONNX model, verified against the trained network before it is written (the file
// appears only if the ONNX logits match tfjs within the tolerance and every top-1 agrees). `pnpm export` is a thin
// CLI over exportModel(); tests call it directly and read the figures it returns.
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { type Checkpoint, createRng, deriveSeed, parseWith, TRAIN_BACKENDS } from '@depthfold/core';
import { loadCheckpoint, runPaths } from '@depthfold/core/node';
import { buildModel, encodeModel, modelMetadata, stampIntegrity } from '@depthfold/onnx';
import { writeModelFile, writeTritonRepository } from '@depthfold/onnx/node';
import { fillBatch, runTestSplit, selectBackend } from '@depthfold/train';
import { measureParity, type Parity } from './parity.js';

/** The options of {@link exportModel}, as `pnpm export` takes them; one schema gives validation, defaults and --help. */
export const exportOptionsSchema = z
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
    tolerance: z
      .number()
      .positive()
      .default(1e-4)
      .describe(
        'largest allowed |logit difference| between ONNX and tfjs, relative to the largest |logit| (at least 1)',
      ),
    backend: z.enum(TRAIN_BACKENDS).default('auto').describe('tfjs backend of the reference network'),
    triton: z
      .string()
      .min(1)
      .optional()
      .describe(
        'also write a Triton model repository to this directory: <name>/1/model.onnx, <name>/config.pbtxt, <name>/labels.txt',
      ),
  })
  .strict();

/** What a user may pass to {@link exportModel}: every option optional. */
export type ExportOptions = z.input<typeof exportOptionsSchema>;

/** What an export wrote and how closely it reproduces the trained network. */
export interface ExportResult {
  /** The model file written. */
  path: string;
  /** Its size in bytes. */
  bytes: number;
  folded: boolean;
  /** The checkpoint it was exported from, and that checkpoint's epoch. */
  checkpointPath: string;
  epoch: number;
  /** ONNX Runtime (cpu) against tfjs on the probe batch. */
  parity: Parity;
  /** What the probe batch was: test images of the run's dataset, or random pixels where the dataset is not at hand. */
  probe: string;
  /** The tfjs backend of the reference network. */
  backend: string;
  /** The Triton repository's model directory, when one was written. */
  triton?: string;
}

/** Thrown when the exported graph does not reproduce the network; nothing was written. */
export class ParityError extends Error {
  constructor(
    readonly parity: Parity,
    readonly tolerance: number,
    path: string,
  ) {
    super(
      `verification failed (max |logit difference| ${parity.maxAbsDiff.toExponential(2)} of logits up to ${parity.maxAbsLogit.toFixed(2)}, ` +
        `relative ${parity.relativeDiff.toExponential(2)}, tolerance ${tolerance.toExponential(0)}; ` +
        `top-1 agreement ${parity.top1Agree}/${parity.images}); ${path} was not written`,
    );
    this.name = 'ParityError';
  }
}

/**
 * The probe batch: the first test images of the run's dataset (a folder run's recorded test files, read from the
 * decode cache), preprocessed as training preprocessed them, or seeded random pixels if the dataset is not at hand.
 */
async function probeBatch(
  checkpoint: Checkpoint,
  runDir: string,
  count: number,
): Promise<{ pixels: Float32Array; source: string }> {
  const { config, normalization, architecture } = checkpoint.info;
  const { height, width, channels } = architecture.input;
  try {
    const { split } = await runTestSplit(checkpoint.info, runDir);
    const n = Math.min(count, split.count);
    const pixels = new Float32Array(n * height * width * channels);
    fillBatch(
      split,
      Array.from({ length: n }, (_, i) => i),
      pixels,
      normalization,
    );
    return { pixels, source: `${n} ${checkpoint.info.dataset.name} test images` };
  } catch (error) {
    const rng = createRng(deriveSeed(config.seed, 'probe'));
    const pixels = Float32Array.from({ length: count * height * width * channels }, () => (rng.next() - 0.5) * 4);
    return {
      pixels,
      source: `${count} random images (dataset unavailable: ${(error as Error).message.split('\n')[0]})`,
    };
  }
}

/**
 * Folds batch norm and the survival probabilities into the convs of a checkpoint, writes the ONNX model (and a
 * Triton repository, if asked), verified first against the trained network.
 * @throws DepthfoldInputError for bad options or a checkpoint that does not export (a non-finite weight is named);
 * ParityError when the ONNX model does not reproduce the network (nothing is written then).
 */
export async function exportModel(input: ExportOptions = {}): Promise<ExportResult> {
  const options = parseWith(exportOptionsSchema, input, 'export options');
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
  const runDir = options.checkpoint === undefined ? options.run : dirname(options.checkpoint);
  const probe = await probeBatch(checkpoint, runDir, options.probe);
  const parity = await measureParity(bytes, checkpoint, metadata, probe.pixels);
  if (!(parity.relativeDiff < options.tolerance) || parity.top1Agree !== parity.images) {
    throw new ParityError(parity, options.tolerance, out);
  }
  await writeModelFile(out, bytes);
  const result: ExportResult = {
    path: out,
    bytes: bytes.length,
    folded,
    checkpointPath,
    epoch: checkpoint.info.epoch,
    parity,
    probe: probe.source,
    backend: backend.name,
  };
  if (options.triton !== undefined) {
    // The Triton name is the served name: the file's base name, as `pnpm serve` uses it.
    const name = basename(out).replace(/\.onnx$/i, '');
    await writeTritonRepository(options.triton, name, bytes, metadata);
    result.triton = join(options.triton, name);
  }
  return result;
}
