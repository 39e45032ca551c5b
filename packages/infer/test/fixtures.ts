// A small random depthfold model for the tests: ResNet-8 on 6x5x3 images (height != width and per-channel
// normalisation that differ, so a swapped axis or channel shows), built and encoded by @depthfold/onnx.
import { createHash } from 'node:crypto';
import {
  createRng,
  encodeCheckpoint,
  parameterSpecs,
  resnetSpec,
  survivalProbs,
  trainConfigSchema,
  DATASET_LABELS,
  METADATA_FORMAT_VERSION,
  type Checkpoint,
  type ModelMetadata,
  type NamedTensor,
  type Rng,
} from '@depthfold/core';
import { buildModel, encodeModel, integrityPayload } from '@depthfold/onnx';

/** Input shape of the fixture model. */
export const INPUT = { height: 6, width: 5, channels: 3 } as const;

/** Per-channel normalisation of the fixture model; every channel differs. */
export const NORMALIZATION = { mean: [0.4, 0.5, 0.6], std: [0.2, 0.25, 0.3] };

function randomTensor(rng: Rng, shape: readonly number[], scale: number, offset = 0): NamedTensor {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) {
    const normal = Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
    data[i] = offset + scale * normal;
  }
  return { shape: [...shape], data };
}

/** A seeded random ResNet-8 checkpoint (He-scaled convs, BN near identity, positive variances). */
export function randomCheckpoint(seed = 7): Checkpoint {
  const spec = resnetSpec({ depth: 8, input: INPUT, numClasses: 10, shortcut: 'A' });
  const rng = createRng(seed);
  const params = new Map<string, NamedTensor>();
  for (const p of parameterSpecs(spec)) {
    const fanIn = p.shape.slice(0, -1).reduce((a, b) => a * b, 1);
    if (p.kind === 'conv' || p.kind === 'dense-weight')
      params.set(p.name, randomTensor(rng, p.shape, Math.sqrt(2 / fanIn)));
    else if (p.kind === 'bn-gamma') params.set(p.name, randomTensor(rng, p.shape, 0.2, 1));
    else if (p.kind === 'bn-variance')
      params.set(p.name, { shape: [...p.shape], data: Float32Array.from(Array(p.shape[0]!), () => 0.5 + rng.next()) });
    else params.set(p.name, randomTensor(rng, p.shape, 0.2));
  }
  const probs = survivalProbs('linear', 3 * spec.blocksPerStage, 0.5);
  return {
    info: {
      formatVersion: METADATA_FORMAT_VERSION,
      config: trainConfigSchema.parse({ depth: 8, dataset: 'cifar10', survivalProb: 0.5 }),
      architecture: { ...spec, widths: [...spec.widths], strides: [...spec.strides] },
      schedule: { rule: 'linear', survivalProb: 0.5, survivalProbs: probs },
      normalization: NORMALIZATION,
      labels: [...DATASET_LABELS.cifar10],
      dataset: { name: 'cifar10', trainExamples: 0 },
      epoch: 1,
      step: 10,
      metrics: { epochs: 1, steps: 10 },
    },
    params,
    momentum: new Map(),
  };
}

/** The metadata an export of `checkpoint` writes (folded form), with the digest of the graph and weights. */
export function metadataFor(checkpoint: Checkpoint): ModelMetadata {
  const base = unstampedMetadataFor(checkpoint);
  const bytes = encodeModel(buildModel(checkpoint, base, { folded: true }));
  return { ...base, integrity: { sha256: createHash('sha256').update(integrityPayload(bytes)).digest('hex') } };
}

/** The metadata of a model exported before the digest existed. */
export function unstampedMetadataFor(checkpoint: Checkpoint): ModelMetadata {
  const { info } = checkpoint;
  return {
    formatVersion: METADATA_FORMAT_VERSION,
    labels: info.labels,
    input: { name: 'input', layout: 'NCHW', ...info.architecture.input },
    output: { name: 'logits', kind: 'logits' },
    normalization: info.normalization,
    architecture: info.architecture,
    schedule: info.schedule,
    dataset: info.dataset,
    metrics: info.metrics,
    checkpoint: { sha256: createHash('sha256').update(encodeCheckpoint(checkpoint)).digest('hex'), epoch: info.epoch },
    folded: true,
  };
}

/** The bytes of the fixture's folded .onnx model. */
export function fixtureModelBytes(seed = 7): Uint8Array {
  const checkpoint = randomCheckpoint(seed);
  return encodeModel(buildModel(checkpoint, metadataFor(checkpoint), { folded: true }));
}
