// The figures a model card states, computed from what the card CLI measured: accuracy with its interval, per class
// and overall, the confusion matrix, the data and the training time. No formatting here (model-card.ts renders).
import type { EpochPlan, MetricsLine, ProvenancedMetadata, TrainConfig } from '@depthfold/core';

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

/** Everything a card states; the CLI measures it, this module computes the figures and model-card.ts writes them. */
export interface ModelCardInput {
  /** The model file as the card names it, e.g. `models/resnet20-fashion-mnist.onnx`. */
  modelPath: string;
  modelBytes: number;
  metadata: ProvenancedMetadata;
  /** The run directory the model was exported from, its config (as the checkpoint records it) and per-epoch metrics. */
  runDir: string;
  config: TrainConfig;
  metrics: readonly MetricsLine[];
  /** The epoch count each part of the run trained towards (its checkpoint's); absent: `config.epochs` throughout. */
  epochPlan?: EpochPlan;
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

/** How the model does on the test images of one class. */
export interface ClassFigures {
  /** The class index (its row of the confusion matrix). */
  index: number;
  label: string;
  /** Its test images. */
  images: number;
  accuracy: Proportion;
  /** The wrong class its images were most often put in (the lowest index on a tie); undefined if none went wrong. */
  mostConfusedWith: { index: number; label: string; count: number } | undefined;
}

/** The figures of a model card. */
export interface ModelCardFigures {
  /** The model file's name without directory and `.onnx`. */
  name: string;
  matrix: ConfusionMatrix;
  /** Top-1 accuracy on all the test images. */
  accuracy: Proportion;
  perClass: ClassFigures[];
  /** Images of the training split: those trained on plus those held out for validation. */
  trainingSplitImages: number;
  trainedImages: number;
  validationImages: number;
  /** Residual blocks, and how many run per step on average under the survival schedule (the sum of its p_l). */
  blocks: number;
  expectedBlocks: number;
  epochs: number;
  /** The epochs' training time, summed (an epoch without a recorded time counts 0). */
  trainingSeconds: number;
  /** The last epoch's metrics line; undefined for a run without one. */
  lastEpoch: MetricsLine | undefined;
}

/** The figures of `matrix`'s row `t`. */
function classFigures(matrix: ConfusionMatrix, labels: readonly string[], t: number): ClassFigures {
  const row = matrix[t]!;
  const images = row.reduce((s, v) => s + v, 0);
  const wrong = row
    .map((count, index) => ({ count, index }))
    .filter((x) => x.index !== t)
    .sort((a, b) => b.count - a.count)[0];
  return {
    index: t,
    label: labels[t]!,
    images,
    accuracy: wilsonInterval(row[t]!, images),
    mostConfusedWith: wrong && wrong.count > 0 ? { ...wrong, label: labels[wrong.index]! } : undefined,
  };
}

/** The figures a card states about `input`. Throws if a class has no test images (its accuracy is undefined). */
export function modelCardFigures(input: ModelCardInput): ModelCardFigures {
  const { metadata, metrics } = input;
  const { labels } = metadata;
  const matrix = confusionMatrix(input.truth, input.predicted, labels.length);
  const correct = matrix.reduce((s, row, t) => s + row[t]!, 0);
  const trainedImages = metadata.dataset.trainExamples;
  // Recorded by runs since validation could be a fraction; a count before.
  const validationImages = metadata.dataset.validationExamples ?? input.config.validation;
  const { survivalProbs } = metadata.schedule;
  return {
    name: input.modelPath.replace(/^.*\//, '').replace(/\.onnx$/i, ''),
    matrix,
    accuracy: wilsonInterval(correct, input.truth.length),
    perClass: matrix.map((_, t) => classFigures(matrix, labels, t)),
    trainingSplitImages: trainedImages + validationImages,
    trainedImages,
    validationImages,
    blocks: survivalProbs.length,
    expectedBlocks: survivalProbs.reduce((s, p) => s + p, 0),
    epochs: metrics.length,
    trainingSeconds: metrics.reduce((s, m) => s + (m.seconds ?? 0), 0),
    lastEpoch: metrics[metrics.length - 1],
  };
}
