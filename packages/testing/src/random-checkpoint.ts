// Seeded random checkpoints of any registered network, for the tests of every package that builds, exports or serves
// a model: the generators use @depthfold/core alone, so any package's tests may use them (onnx's included) without a
// cycle. The tensors follow the topology's parameter specs: nothing here knows a family.
import {
  type Checkpoint,
  CHECKPOINT_FORMAT_VERSION,
  createRng,
  DATASET_LABELS,
  decodeCheckpoint,
  encodeCheckpoint,
  type InputShape,
  type NamedTensor,
  type Normalization,
  parameterSpecs,
  type Rng,
  residualLayers,
  resolveArchitecture,
  survivalProbs,
  topologyOf,
  trainConfigSchema,
} from '@depthfold/core';

/** Standard normal numbers (Box-Muller, both values of each pair) from a seeded generator. */
export function gaussian(rng: Rng): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const value = spare;
      spare = undefined;
      return value;
    }
    const radius = Math.sqrt(-2 * Math.log(1 - rng.next()));
    const angle = 2 * Math.PI * rng.next();
    spare = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  };
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

/** A test case: a random network, its input and seed. */
export interface Case {
  label: string;
  /** A network name (`resnet8`, `resnet18`) or a family name. */
  arch: string;
  /** Options replacing the network's (`{ shortcut: 'projection' }`). */
  options?: Readonly<Record<string, unknown>>;
  input: InputShape;
  seed: number;
  /** Classes; default 10. */
  numClasses?: number;
  /** Labels; default Fashion-MNIST's on one channel, CIFAR-10's on three (10 classes), else `class0`, `class1`... */
  labels?: readonly string[];
  /** The checkpoint's normalisation; default mean 0.5 and std 0.25 on every channel. */
  normalization?: Normalization;
}

/** ResNet-8 with option A on 28x28x1 and with projection shortcuts on 32x32x3. */
export const CASES: readonly Case[] = [
  { label: 'resnet8-A-28x28x1', arch: 'resnet8', input: { height: 28, width: 28, channels: 1 }, seed: 11 },
  {
    label: 'resnet8-projection-32x32x3',
    arch: 'resnet8',
    options: { shortcut: 'projection' },
    input: { height: 32, width: 32, channels: 3 },
    seed: 12,
  },
];

/** ResNet-18 (basic blocks, 7x7 stem and max pool) and ResNet-50 (bottlenecks) on 32x32x3: the ImageNet family's two block kinds. */
export const IMAGENET_CASES: readonly Case[] = [
  { label: 'resnet18-32x32x3', arch: 'resnet18', input: { height: 32, width: 32, channels: 3 }, seed: 13 },
  { label: 'resnet50-32x32x3', arch: 'resnet50', input: { height: 32, width: 32, channels: 3 }, seed: 14 },
];

function labelsOf(testCase: Case, classes: number): string[] {
  if (testCase.labels) return [...testCase.labels];
  if (classes === 10) return [...DATASET_LABELS[testCase.input.channels === 1 ? 'fashion-mnist' : 'cifar10']];
  return Array.from({ length: classes }, (_, i) => `class${i}`);
}

/**
 * A random checkpoint of `testCase` (He-scaled convs, BN with gamma around 1 and positive variance, linear survival
 * with p_L = 0.5), passed through core's encoder and decoder so that it is a checkpoint core accepts.
 */
export function randomCheckpoint(testCase: Case): Checkpoint {
  const { input, seed } = testCase;
  const classes = testCase.numClasses ?? 10;
  const dataset = input.channels === 1 ? 'fashion-mnist' : 'cifar10';
  const architecture = resolveArchitecture({ arch: testCase.arch, overrides: testCase.options ?? {} }, input, classes);
  const topology = topologyOf(architecture);
  const rng = createRng(seed);
  const params = new Map<string, NamedTensor>();
  for (const p of parameterSpecs(topology)) {
    const fanIn = p.shape.slice(0, -1).reduce((a, b) => a * b, 1);
    if (p.kind === 'conv' || p.kind === 'dense-weight')
      params.set(p.name, randomTensor(rng, p.shape, Math.sqrt(2 / fanIn)));
    else if (p.kind === 'bn-gamma') params.set(p.name, randomTensor(rng, p.shape, 0.2, 1));
    else if (p.kind === 'bn-variance') params.set(p.name, randomVariance(rng, p.shape[0]!));
    else params.set(p.name, randomTensor(rng, p.shape, 0.2));
  }
  const probs = survivalProbs('linear', residualLayers(topology).length, 0.5);
  const normalization = testCase.normalization ?? {
    mean: Array(input.channels).fill(0.5),
    std: Array(input.channels).fill(0.25),
  };
  const checkpoint: Checkpoint = {
    info: {
      formatVersion: CHECKPOINT_FORMAT_VERSION,
      config: trainConfigSchema.parse({ arch: testCase.arch, ...testCase.options, dataset, survivalProb: 0.5 }),
      architecture,
      schedule: { rule: 'linear', survivalProb: 0.5, survivalProbs: probs },
      normalization: { mean: [...normalization.mean], std: [...normalization.std] },
      labels: labelsOf(testCase, classes),
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
