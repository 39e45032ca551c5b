// Seeded random ResNet checkpoints for the tests of every package that builds, exports or serves a model: the
// generators use @depthfold/core alone, so any package's tests may use them (onnx's included) without a cycle.
import {
  type Checkpoint,
  createRng,
  DATASET_LABELS,
  decodeCheckpoint,
  encodeCheckpoint,
  type InputShape,
  METADATA_FORMAT_VERSION,
  type NamedTensor,
  type Normalization,
  parameterSpecs,
  type Rng,
  resnetSpec,
  type ShortcutKind,
  survivalProbs,
  trainConfigSchema,
} from '@depthfold/core';

/** Standard normal numbers (Box-Muller) from a seeded generator. */
export function gaussian(rng: Rng): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
}

/** A tensor of `scale * N(0, 1) + offset` values. */
export function randomTensor(rng: Rng, shape: readonly number[], scale = 1, offset = 0): NamedTensor {
  const normal = gaussian(rng);
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = offset + scale * normal();
  return { shape: [...shape], data };
}

/** Positive variances in [0.5, 1.5). */
export function randomVariance(rng: Rng, channels: number): NamedTensor {
  const data = new Float32Array(channels);
  for (let i = 0; i < channels; i++) data[i] = 0.5 + rng.next();
  return { shape: [channels], data };
}

/** A test case: a random ResNet-8 with the given shortcut and input. */
export interface Case {
  label: string;
  shortcut: ShortcutKind;
  input: InputShape;
  seed: number;
  /** The checkpoint's normalisation; default mean 0.5 and std 0.25 on every channel. */
  normalization?: Normalization;
}

/** ResNet-8 with option A on 28x28x1 and with projection shortcuts on 32x32x3. */
export const CASES: readonly Case[] = [
  { label: 'resnet8-A-28x28x1', shortcut: 'A', input: { height: 28, width: 28, channels: 1 }, seed: 11 },
  {
    label: 'resnet8-projection-32x32x3',
    shortcut: 'projection',
    input: { height: 32, width: 32, channels: 3 },
    seed: 12,
  },
];

/**
 * A random checkpoint of `testCase` (He-scaled convs, BN with gamma around 1 and positive variance, linear survival
 * with p_L = 0.5; Fashion-MNIST labels on one channel, CIFAR-10 on three), passed through core's encoder and decoder
 * so that it is a checkpoint core accepts.
 */
export function randomCheckpoint(testCase: Case): Checkpoint {
  const { shortcut, input, seed } = testCase;
  const dataset = input.channels === 1 ? 'fashion-mnist' : 'cifar10';
  const spec = resnetSpec({ depth: 8, input, numClasses: 10, shortcut });
  const rng = createRng(seed);
  const params = new Map<string, NamedTensor>();
  for (const p of parameterSpecs(spec)) {
    const fanIn = p.shape.slice(0, -1).reduce((a, b) => a * b, 1);
    if (p.kind === 'conv' || p.kind === 'dense-weight')
      params.set(p.name, randomTensor(rng, p.shape, Math.sqrt(2 / fanIn)));
    else if (p.kind === 'bn-gamma') params.set(p.name, randomTensor(rng, p.shape, 0.2, 1));
    else if (p.kind === 'bn-variance') params.set(p.name, randomVariance(rng, p.shape[0]!));
    else params.set(p.name, randomTensor(rng, p.shape, 0.2));
  }
  const probs = survivalProbs('linear', 3 * spec.blocksPerStage, 0.5);
  const normalization = testCase.normalization ?? {
    mean: Array(input.channels).fill(0.5),
    std: Array(input.channels).fill(0.25),
  };
  const checkpoint: Checkpoint = {
    info: {
      formatVersion: METADATA_FORMAT_VERSION,
      config: trainConfigSchema.parse({ depth: 8, shortcut, dataset, survivalProb: 0.5 }),
      architecture: { ...spec, widths: [...spec.widths], strides: [...spec.strides] },
      schedule: { rule: 'linear', survivalProb: 0.5, survivalProbs: probs },
      normalization: { mean: [...normalization.mean], std: [...normalization.std] },
      labels: [...DATASET_LABELS[dataset]],
      dataset: { name: dataset, trainExamples: 0 },
      epoch: 1,
      step: 10,
      metrics: { epochs: 1, steps: 10 },
    },
    params,
    momentum: new Map(),
  };
  return decodeCheckpoint(encodeCheckpoint(checkpoint), `random checkpoint ${seed}`);
}
