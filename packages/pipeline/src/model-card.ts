// A model card (models/<name>.md): what a shipped model is, how it was trained, and how well it does, every figure
// measured from the model file, its run directory and the test set, with the commands that reproduce them.
import type { MetricsLine, ModelMetadata, TrainConfig } from '@depthfold/core';
import { duration } from '@depthfold/report';

/** counts[t][p]: test images of true class t that the model put in class p. */
export type ConfusionMatrix = number[][];

/** The confusion matrix of `predicted` against `truth` over `classes` classes. */
export function confusionMatrix(
  truth: ArrayLike<number>,
  predicted: ArrayLike<number>,
  classes: number,
): ConfusionMatrix {
  if (truth.length !== predicted.length)
    throw new Error(`confusionMatrix: ${truth.length} labels but ${predicted.length} predictions`);
  const counts = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < truth.length; i++) counts[truth[i]!]![predicted[i]!]!++;
  return counts;
}

/** A proportion with its 95% confidence interval. */
export interface Proportion {
  successes: number;
  total: number;
  value: number;
  low: number;
  high: number;
}

/**
 * `successes` of `total` with its Wilson score interval at 95%: unlike the normal approximation it stays inside
 * [0, 1] and is accurate near 0 and 1, where classifier accuracies live.
 */
export function wilsonInterval(successes: number, total: number): Proportion {
  if (total <= 0) throw new Error(`wilsonInterval: expected a positive total, received ${total}`);
  const z = 1.959963984540054;
  const p = successes / total;
  const denominator = 1 + (z * z) / total;
  const centre = (p + (z * z) / (2 * total)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / total + (z * z) / (4 * total * total))) / denominator;
  return { successes, total, value: p, low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/** Everything a card states; the CLI measures it, this module only writes it down. */
export interface ModelCardInput {
  /** The model file as the card names it, e.g. `models/resnet20-fashion-mnist.onnx`. */
  modelPath: string;
  modelBytes: number;
  metadata: ModelMetadata;
  /** The run directory the model was exported from, its config (as the checkpoint records it) and per-epoch metrics. */
  runDir: string;
  config: TrainConfig;
  metrics: readonly MetricsLine[];
  /** `pnpm train ...` and `pnpm export ...` as they reproduce the model. */
  trainCommand: string;
  exportCommand: string;
  /** The command that wrote this card. */
  cardCommand: string;
  /** Where training ran, e.g. `2 vCPUs (Intel Xeon ...), 24 GiB, Node 20.19, tfjs wasm, 2 workers`. */
  hardware: string;
  /** Test labels and the ONNX model's top-1 predictions, as ONNX Runtime gave them. */
  truth: ArrayLike<number>;
  predicted: ArrayLike<number>;
  /** ONNX Runtime vs the trained tfjs network on the same test images. */
  parity: { images: number; maxAbsDiff: number; top1Agree: number };
  /** The execution provider that produced `predicted`. */
  provider: string;
  generated: Date;
}

const pct = (v: number, digits = 2): string => `${(100 * v).toFixed(digits)}%`;

function table(head: readonly string[], rows: readonly (readonly string[])[], align: readonly ('l' | 'r')[]): string {
  const rule = align.map((a) => (a === 'r' ? '---:' : '---'));
  return [head, rule, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

function survivalText(metadata: ModelMetadata): string {
  const { rule, survivalProb, survivalProbs } = metadata.schedule;
  const expected = survivalProbs.reduce((s, p) => s + p, 0);
  if (rule === 'none')
    return `constant depth: every one of the ${survivalProbs.length} residual blocks runs at every step`;
  return (
    `stochastic depth, ${rule} rule, p_L = ${survivalProb}: block l survives a mini-batch with probability p_l = ` +
    `${survivalProbs.map((p) => p.toFixed(3)).join(', ')}; expected ${expected.toFixed(2)} of ${survivalProbs.length} blocks per step`
  );
}

/** The card as Markdown. */
export function modelCardMarkdown(input: ModelCardInput): string {
  const { metadata, config, metrics } = input;
  const { architecture: arch, labels } = metadata;
  const classes = labels.length;
  const matrix = confusionMatrix(input.truth, input.predicted, classes);
  const correct = matrix.reduce((s, row, t) => s + row[t]!, 0);
  const accuracy = wilsonInterval(correct, input.truth.length);
  const last = metrics[metrics.length - 1];
  const seconds = metrics.reduce((s, m) => s + (m.seconds ?? 0), 0);
  const trained = metadata.dataset.trainExamples;
  const validation = config.validation;
  const name = input.modelPath.replace(/^.*\//, '').replace(/\.onnx$/i, '');
  const net = `ResNet-${arch.depth}`;
  const schedule =
    metadata.schedule.rule === 'none'
      ? 'constant depth'
      : `stochastic depth (${metadata.schedule.rule}, p_L = ${metadata.schedule.survivalProb})`;

  const perClass = matrix.map((row, t) => {
    const total = row.reduce((s, v) => s + v, 0);
    const acc = wilsonInterval(row[t]!, total);
    const worst = row
      .map((v, p) => ({ v, p }))
      .filter((x) => x.p !== t)
      .sort((a, b) => b.v - a.v)[0]!;
    return [
      String(t),
      labels[t]!,
      String(total),
      pct(acc.value, 1),
      `${pct(acc.low, 1)} – ${pct(acc.high, 1)}`,
      worst.v > 0 ? `${labels[worst.p]} (${worst.v})` : '-',
    ];
  });
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
        ? `${(trained + validation).toLocaleString('en')} training images, of which ${validation.toLocaleString('en')} were held out ` +
          `(a seeded choice, seed ${config.seed}) as a validation split for model choice and ${trained.toLocaleString('en')} trained on; `
        : `${trained.toLocaleString('en')} training images, all trained on (no validation split); `) +
      `evaluation on the ${accuracy.total.toLocaleString('en')} test images, never used for a choice. ` +
      `Augmentation: random crop after ${config.padCrop}-pixel zero padding${!config.flip ? '' : ', random horizontal flip'}.`,
    '',
    '## Architecture',
    '',
    `${net} (Huang et al. 2016 / He et al. 2016 CIFAR family): a 3x3 stem conv, ${3 * arch.blocksPerStage} residual blocks (conv-BN-ReLU-conv-BN) in ` +
      `3 stages of widths ${arch.widths.join(', ')}, strides ${arch.strides.join(', ')}, shortcut ${arch.shortcut === 'A' ? 'A (average pool and zero-padded channels)' : '1x1 projection'}, ` +
      `global average pool, dense ${classes}.`,
    '',
    `Training: ${survivalText(metadata)}.`,
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
    `Schedule: ${metrics.length} epoch${metrics.length === 1 ? '' : 's'} of batch ${config.batchSize}, Nesterov SGD (momentum ${config.momentum}), peak learning rate ` +
      `${config.learningRate} with ${config.lrSchedule} decay, weight decay ${config.weightDecay}, seed ${config.seed}.`,
    '',
    `Hardware: ${input.hardware}. Training time ${duration(seconds)} (training steps only; evaluation excluded).`,
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
