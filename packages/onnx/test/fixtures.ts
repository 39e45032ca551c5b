// Random ResNet checkpoints and matching model metadata for the tests (seeded, so failures reproduce).
import { createHash } from 'node:crypto';
import {
  createRng,
  decodeCheckpoint,
  encodeCheckpoint,
  parameterSpecs,
  resnetSpec,
  survivalProbs,
  trainConfigSchema,
  DATASET_LABELS,
  METADATA_FORMAT_VERSION,
  type Checkpoint,
  type InputShape,
  type ModelMetadata,
  type NamedTensor,
  type Rng,
  type ShortcutKind,
} from '@depthfold/core';
import { buildModel } from '../src/graph.js';
import { integrityPayload } from '../src/integrity.js';
import { encodeModel } from '../src/model-file.js';
import { modelMetadata } from '../src/model-metadata.js';

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

/** A test case: ResNet-8 with the given shortcut and input. */
export interface Case {
  label: string;
  shortcut: ShortcutKind;
  input: InputShape;
  seed: number;
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
 * A random checkpoint (He-scaled convs, BN with gamma around 1 and positive variance, linear survival with
 * p_L = 0.5), passed through core's encoder and decoder so that it is a checkpoint core accepts.
 */
export function randomCheckpoint({ shortcut, input, seed }: Case): Checkpoint {
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
  const checkpoint: Checkpoint = {
    info: {
      formatVersion: METADATA_FORMAT_VERSION,
      config: trainConfigSchema.parse({ depth: 8, shortcut, dataset, survivalProb: 0.5 }),
      architecture: { ...spec, widths: [...spec.widths], strides: [...spec.strides] },
      schedule: { rule: 'linear', survivalProb: 0.5, survivalProbs: probs },
      normalization: { mean: Array(input.channels).fill(0.5), std: Array(input.channels).fill(0.25) },
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

/**
 * The metadata an export of `checkpoint` writes, with the digest of the graph and weights that `buildModel` makes of
 * it (the digest leaves metadata_props out, so it is the same before and after it is added): models built from it
 * load in @depthfold/infer with the integrity check on. Computed with node:crypto, which the tests compare with
 * the SubtleCrypto path.
 */
export function metadataFor(checkpoint: Checkpoint, folded: boolean): ModelMetadata {
  const base = modelMetadata(
    checkpoint,
    createHash('sha256').update(encodeCheckpoint(checkpoint)).digest('hex'),
    folded,
  );
  const bytes = encodeModel(buildModel(checkpoint, base, { folded }));
  return { ...base, integrity: { sha256: createHash('sha256').update(integrityPayload(bytes)).digest('hex') } };
}
