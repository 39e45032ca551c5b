// A model card (models/<name>.md): what a shipped model is, how it was trained, and how well it does, every figure
// measured from the model file, its run directory and the test set, with the commands that reproduce them. The
// figures are model-card-figures.ts's; this module writes them down as Markdown.
import {
  type EpochPlan,
  singleEpochPlan,
  trainConfigSchema,
  type ProvenancedMetadata,
  topologyOf,
  type TrainConfig,
} from '@depthfold/core';
import { commandLineOf, defaultRunDir } from '@depthfold/core/node';
import { duration } from '@depthfold/report';
import { architectureText } from './architecture-text.js';
import { modelCardFigures, type ModelCardFigures, type ModelCardInput } from './model-card-figures.js';

// The package's index exports the card's statistics and input from here, where they were before the figures moved.
export {
  confusionMatrix,
  wilsonInterval,
  type ConfusionMatrix,
  type ModelCardInput,
  type Proportion,
} from './model-card-figures.js';

const pct = (v: number, digits = 2): string => `${(100 * v).toFixed(digits)}%`;

function table(head: readonly string[], rows: readonly (readonly string[])[], align: readonly ('l' | 'r')[]): string {
  const rule = align.map((a) => (a === 'r' ? '---:' : '---'));
  return [head, rule, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

/** The training precision in words: fp32 where the model records none (it predates bf16 training). */
function precisionText(precision: string | undefined): string {
  return precision === 'bf16'
    ? 'bf16 (bf16 inputs, fp32 accumulation; batch norm, loss, optimizer and weights fp32), exported in fp32'
    : 'fp32';
}

function survivalText(metadata: ProvenancedMetadata, figures: ModelCardFigures): string {
  const { rule, survivalProb, survivalProbs } = metadata.schedule;
  if (rule === 'none') return `constant depth: every one of the ${figures.blocks} residual blocks runs at every step`;
  return (
    `stochastic depth, ${rule} rule, p_L = ${survivalProb}: block l survives a mini-batch with probability p_l = ` +
    `${survivalProbs.map((p) => p.toFixed(3)).join(', ')}; expected ${figures.expectedBlocks.toFixed(2)} of ${figures.blocks} blocks per step`
  );
}

/**
 * The `pnpm train` commands that train `config` again into `runDir`, one line per part of `plan` (the first with
 * the part's epoch count, each later one a `--resume --epochs` after the epoch it started from). `--run-dir` is named
 * unless it is the default `runs/<name>` (a checkpoint's config does not say where its run lives).
 */
export function trainCommandOf(
  config: TrainConfig,
  runDir: string,
  plan: EpochPlan = singleEpochPlan(config.epochs),
): string {
  const dir = runDir === defaultRunDir(config.name) ? undefined : runDir;
  const [first, ...later] = plan as [EpochPlan[number], ...EpochPlan];
  const lines = [
    [
      'pnpm train',
      ...commandLineOf(trainConfigSchema, { ...config, runDir: dir, epochs: first.epochs }, ['resume']),
    ].join(' '),
  ];
  let planned = first.epochs;
  for (const part of later) {
    const where = ['--name', config.name, ...(dir === undefined ? [] : ['--run-dir', dir])].join(' ');
    // A part that began before the previous count was reached: that session was stopped there, which no flag says.
    const stop = part.fromEpoch < planned ? `   # the previous command stopped after epoch ${part.fromEpoch}` : '';
    lines.push(`pnpm train ${where} --resume --epochs ${part.epochs}${stop}`);
    planned = part.epochs;
  }
  return lines.join('\n');
}

/** How the learning rate spread over `plan`, for a run of more than one part: empty for a single part. */
export function epochPlanText(plan: EpochPlan): string {
  if (plan.length < 2) return '';
  const parts = plan.map((p, i) =>
    i === 0 ? `over ${p.epochs} epochs` : `from epoch ${p.fromEpoch + 1} over ${p.epochs}`,
  );
  return ` The run was resumed with a new epoch count, so the schedule spread ${parts.join(', then ')} (a decay re-spread, not a restart from the peak).`;
}

/** The augmentations of a training config, as the card's Data section names them. */
export function augmentationText(
  config: Pick<TrainConfig, 'padCrop' | 'flip' | 'randomErasing'> & Partial<Pick<TrainConfig, 'randomResizedCrop'>>,
): string {
  const rrc = config.randomResizedCrop ?? 0;
  const parts = [
    ...(rrc > 0 ? [`random resized crop (area share ${rrc}–1, aspect ratio 3/4–4/3)`] : []),
    ...(config.padCrop > 0 ? [`random crop after ${config.padCrop}-pixel zero padding`] : []),
    ...(config.flip ? ['random horizontal flip'] : []),
    ...(config.randomErasing > 0
      ? [`random erasing (Zhong et al. 2020) of one rectangle per image with probability ${config.randomErasing}`]
      : []),
  ];
  return parts.length > 0 ? `Augmentation: ${parts.join(', ')}.` : 'No augmentation.';
}

/** The card of `input` as Markdown: `renderModelCard` of its `modelCardFigures`. */
export function modelCardMarkdown(input: ModelCardInput): string {
  return renderModelCard(input, modelCardFigures(input));
}

/** The card as Markdown: `figures` (computed from `input`) written down, with `input`'s commands and settings. */
export function renderModelCard(input: ModelCardInput, figures: ModelCardFigures): string {
  const { metadata, config, metrics } = input;
  const { architecture: arch, labels } = metadata;
  const { accuracy, matrix, name } = figures;
  const classes = labels.length;
  const last = figures.lastEpoch;
  const seconds = figures.trainingSeconds;
  const trained = figures.trainedImages;
  const validation = figures.validationImages;
  const topology = topologyOf(arch);
  const net = topology.title;
  const schedule =
    metadata.schedule.rule === 'none'
      ? 'constant depth'
      : `stochastic depth (${metadata.schedule.rule}, p_L = ${metadata.schedule.survivalProb})`;

  const perClass = figures.perClass.map((c) => [
    String(c.index),
    c.label,
    String(c.images),
    pct(c.accuracy.value, 1),
    `${pct(c.accuracy.low, 1)} – ${pct(c.accuracy.high, 1)}`,
    c.mostConfusedWith ? `${c.mostConfusedWith.label} (${c.mostConfusedWith.count})` : '-',
  ]);
  const epochRows = metrics.map((m) => [
    String(m.epoch),
    m.learningRate == null ? '-' : m.learningRate.toPrecision(3),
    m.trainLoss == null ? '-' : m.trainLoss.toFixed(4),
    m.validationError == null ? '-' : pct(m.validationError),
    m.testError == null ? '-' : pct(m.testError),
    m.seconds == null ? '-' : duration(m.seconds),
    m.imagesPerSecond == null ? '-' : m.imagesPerSecond.toFixed(0),
  ]);

  return [
    `# ${name}: ${net}, ${schedule}, on ${metadata.dataset.name}`,
    '',
    `**Test accuracy ${pct(accuracy.value)}** (95% confidence interval ${pct(accuracy.low)} – ${pct(accuracy.high)}, Wilson score) on the ` +
      `${accuracy.total.toLocaleString('en')} ${metadata.dataset.name} test images, run by ONNX Runtime (${input.provider}) from \`${input.modelPath}\`.`,
    '',
    `Card written ${input.generated.toISOString().slice(0, 10)} by \`${input.cardCommand}\`; every figure below comes from that command, the model file and its run directory \`${input.runDir}\`.`,
    '',
    '## Use',
    '',
    '```ts',
    "import { load } from '@depthfold/infer';",
    `const model = await load('${input.modelPath}');       // Node: onnxruntime-node; browsers: onnxruntime-web`,
    `const [result] = await model.classify(pixels);      // ${arch.input.height}x${arch.input.width}x${arch.input.channels} bytes, 0..255`,
    '```',
    '',
    `Or over HTTP: \`pnpm serve --model ${input.modelPath}\` (KServe V2 protocol). Input \`${metadata.input.name}\`: float32 NCHW, ` +
      `normalised as x = (pixel / 255 - mean) / std with mean ${metadata.normalization.mean.map((v) => v.toFixed(4)).join(', ')} and std ` +
      `${metadata.normalization.std.map((v) => v.toFixed(4)).join(', ')} (stored in the model; \`@depthfold/infer\` applies it). Output \`${metadata.output.name}\`: ${classes} logits.`,
    '',
    '## Data',
    '',
    `${metadata.dataset.name}: ` +
      (validation > 0
        ? `${figures.trainingSplitImages.toLocaleString('en')} training images, of which ${validation.toLocaleString('en')} were held out ` +
          `(a seeded choice, seed ${config.seed}) as a validation split for model choice and ${trained.toLocaleString('en')} trained on; `
        : `${trained.toLocaleString('en')} training images, all trained on (no validation split); `) +
      `evaluation on the ${accuracy.total.toLocaleString('en')} test images, never used for a choice. ` +
      augmentationText(config),
    '',
    '## Architecture',
    '',
    `${net}: ${architectureText(topology)}`,
    '',
    `Training: ${survivalText(metadata, figures)}.`,
    '',
    `Export: batch norm and p_l folded into the conv weights (no Mul, no BatchNormalization, no randomness in the graph: ` +
      `H_l = ReLU(p_l f_l(H_{l-1}) + id(H_{l-1}))), ONNX opset 17, ${(input.modelBytes / 1024).toFixed(0)} KiB, ` +
      `from epoch ${metadata.checkpoint.epoch} of checkpoint sha256 \`${metadata.checkpoint.sha256.slice(0, 16)}…\`.`,
    '',
    '## Training',
    '',
    '```sh',
    input.trainCommand,
    input.exportCommand,
    '```',
    '',
    `Schedule: ${figures.epochs} epoch${figures.epochs === 1 ? '' : 's'} of batch ${config.batchSize}, Nesterov SGD (momentum ${config.momentum}), peak learning rate ` +
      `${config.learningRate} with ${config.lrSchedule} decay, weight decay ${config.weightDecay}, seed ${config.seed}.` +
      epochPlanText(input.epochPlan ?? singleEpochPlan(config.epochs)),
    '',
    `Hardware: ${input.hardware}. Training time ${duration(seconds)} (training steps only; evaluation excluded). ` +
      `Precision of the convs and matmuls: ${precisionText(metadata.metrics.precision)}.`,
    '',
    table(['epoch', 'learning rate', 'train loss', 'validation error', 'test error', 'time', 'images/s'], epochRows, [
      'r',
      'r',
      'r',
      'r',
      'r',
      'r',
      'r',
    ]),
    '',
    '## Results',
    '',
    `Test accuracy ${pct(accuracy.value)} (${accuracy.successes} of ${accuracy.total}; 95% CI ${pct(accuracy.low)} – ${pct(accuracy.high)}). ` +
      (last?.validationError == null ? '' : `Validation error after the last epoch ${pct(last.validationError)}. `) +
      (last?.testError == null
        ? ''
        : `The trainer's own test error after the last epoch (tfjs, ${last.testExamples ?? '?'} test images): ${pct(last.testError)}.`),
    '',
    'Per class (interval: Wilson 95%; "most confused with": the most frequent wrong class and its count):',
    '',
    table(['class', 'label', 'test images', 'accuracy', '95% CI', 'most confused with'], perClass, [
      'r',
      'l',
      'r',
      'r',
      'r',
      'l',
    ]),
    '',
    'Confusion matrix (rows: true class, columns: predicted class):',
    '',
    table(
      ['true \\ predicted', ...labels.map((l, i) => `${i} ${l}`)],
      matrix.map((row, t) => [`${t} ${labels[t]}`, ...row.map((v, p) => (p === t ? `**${v}**` : String(v)))]),
      ['l', ...labels.map(() => 'r' as const)],
    ),
    '',
    '## Parity',
    '',
    `The exported model (ONNX Runtime, CPU) against the trained network (tfjs, batch norm and p_l as separate ops) on ` +
      `${input.parity.images.toLocaleString('en')} test images: largest |logit difference| ${input.parity.maxAbsDiff.toExponential(2)}, ` +
      `top-1 agreement ${input.parity.top1Agree} of ${input.parity.images}.`,
    '',
  ].join('\n');
}
