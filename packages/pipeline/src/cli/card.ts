#!/usr/bin/env node
// `pnpm card --model models/<name>.onnx`: measures a shipped model on its whole test set (ONNX Runtime through
// @depthfold/infer, as users run it), checks it against the trained network (tfjs), and writes models/<name>.md.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { DepthfoldInputError, epochPlanOf, SHIPPED_MODEL, parseWith, requireProvenance } from '@depthfold/core';
import {
  defaultRunDir,
  helpText,
  loadCheckpoint,
  parseCommandLine,
  processLogger as log,
  writeFileAtomic,
  runCommand,
  runPaths,
} from '@depthfold/core/node';
import { load } from '@depthfold/infer/node';
import { readModelMetadata } from '@depthfold/onnx';
import { loadRun } from '@depthfold/report';
import { fillBatch, runTestSplit, selectBackend } from '@depthfold/train';
import { modelCardMarkdown, trainCommandOf } from '../model-card.js';
import { measureParity } from '../parity.js';

const cardOptionsSchema = z
  .object({
    model: z.string().default(SHIPPED_MODEL).describe('the exported model (from pnpm export)'),
    run: z
      .string()
      .optional()
      .describe(
        'its run directory (default: runs/<model name>); its checkpoint must be the one the model was exported from',
      ),
    out: z.string().optional().describe('the card (default: the model path with .md instead of .onnx)'),
    hardware: z
      .string()
      .optional()
      .describe('where the run trained (default: this machine, which the card assumes trained it)'),
  })
  .strict();

const SUMMARY =
  'Writes a model card: test accuracy with its 95% interval, per-class accuracy and the confusion matrix on the\n' +
  'whole test set (ONNX Runtime), parity against the trained network (tfjs), and the training run that made it.';

const BATCH = 500;

function thisMachine(backends: string): string {
  const cores = cpus();
  return `${cores.length} vCPUs (${cores[0]?.model.trim() ?? 'unknown CPU'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, no GPU used; tfjs ${backends}`;
}

async function main(): Promise<void> {
  const raw = parseCommandLine(process.argv.slice(2), cardOptionsSchema);
  if (raw === 'help') {
    log.info(helpText('pnpm card', SUMMARY, cardOptionsSchema));
    return;
  }
  const options = parseWith(cardOptionsSchema, raw, 'card options');
  const name = basename(options.model).replace(/\.onnx$/i, '');
  const runDir = options.run ?? defaultRunDir(name);
  const out = options.out ?? join(dirname(options.model), `${name}.md`);

  const bytes = await readFile(options.model).then(
    (buffer) => new Uint8Array(buffer),
    (error: unknown) => {
      throw new DepthfoldInputError(
        'model',
        'a readable .onnx file from pnpm export',
        error instanceof Error ? error.message : String(error),
        'card options',
      );
    },
  );
  const metadata = requireProvenance(readModelMetadata(bytes, options.model), options.model);
  if (!existsSync(runPaths(runDir).checkpoint)) {
    throw new DepthfoldInputError(
      'run',
      'the run directory the model was exported from (with checkpoint.safetensors)',
      runDir,
      'card options',
    );
  }
  const checkpoint = await loadCheckpoint(runPaths(runDir).checkpoint);
  if (checkpoint.sha256 !== metadata.checkpoint.sha256) {
    throw new Error(
      `${options.model} was exported from checkpoint sha256 ${metadata.checkpoint.sha256}, but ${runPaths(runDir).checkpoint} is ${checkpoint.sha256}; ` +
        'pass the run it came from (--run), or export it again (pnpm export)',
    );
  }
  const run = await loadRun(runDir);
  const config = checkpoint.info.config;
  // The whole test split as the run evaluated it: a built-in dataset's, or a folder run's recorded test files.
  const { split: test, source } = await runTestSplit(checkpoint.info, runDir);
  const size = test.height * test.width * test.channels;

  // Accuracy as users get it: raw pixels through @depthfold/infer, which normalises with the model's own statistics.
  const classifier = await load(bytes, { device: 'cpu' });
  const predicted = new Int32Array(test.count);
  try {
    for (let start = 0; start < test.count; start += BATCH) {
      const count = Math.min(BATCH, test.count - start);
      const images = Array.from({ length: count }, (_, i) =>
        test.images.subarray((start + i) * size, (start + i + 1) * size),
      );
      const logits = await classifier.logits(images);
      logits.forEach((row, i) => (predicted[start + i] = row.indexOf(Math.max(...row))));
    }
  } finally {
    await classifier.dispose();
  }
  log.info(`card: ${source} classified by ONNX Runtime (${classifier.info.provider})`);

  const backend = await selectBackend('auto');
  const pixels = new Float32Array(test.count * size);
  fillBatch(
    test,
    Uint32Array.from({ length: test.count }, (_, i) => i),
    pixels,
    checkpoint.info.normalization,
  );
  const parity = await measureParity(bytes, checkpoint, metadata, pixels, (done, total) => {
    if (done % 2500 === 0 || done === total) log.info(`card: parity against tfjs (${backend.name}) ${done}/${total}`);
  });

  const backends = [
    ...new Set(
      run.metrics.map(
        (m) =>
          `${m.backend ?? '?'}${typeof m.workers === 'number' ? `, ${m.workers} worker${m.workers === 1 ? '' : 's'}` : ''}`,
      ),
    ),
  ].join('; ');
  const defaultModel = join('models', `${config.name}.onnx`);
  const epochPlan = epochPlanOf(checkpoint.info);
  const markdown = modelCardMarkdown({
    modelPath: options.model,
    modelBytes: bytes.length,
    metadata,
    runDir,
    config,
    metrics: run.metrics,
    epochPlan,
    trainCommand: trainCommandOf(config, runDir, epochPlan),
    exportCommand: `pnpm export --run ${runDir}${options.model === defaultModel ? '' : ` --out ${options.model}`}`,
    cardCommand: [
      'pnpm card --model',
      options.model,
      ...(options.run ? ['--run', options.run] : []),
      ...(options.out ? ['--out', options.out] : []),
      ...(options.hardware ? ['--hardware', JSON.stringify(options.hardware)] : []),
    ].join(' '),
    hardware: options.hardware ?? thisMachine(backends),
    truth: test.labels,
    predicted,
    parity,
    provider: classifier.info.provider,
    generated: new Date(),
  });
  await writeFileAtomic(out, markdown);
  log.info(`card: ${out}`);
}

runCommand('card', main);
