// What a topology stores and what it costs, read off its layers: the named tensors of checkpoints and exports, and
// the multiply-accumulates from which the theoretical saving of dropped blocks follows.
import type { Layer, Topology } from './topology.js';

/** What a stored tensor is; decides folding, weight decay and whether it is trained. */
export type ParameterKind = 'conv' | 'bn-gamma' | 'bn-beta' | 'bn-mean' | 'bn-variance' | 'dense-weight' | 'dense-bias';

/** A named parameter with its shape in TensorFlow.js layout (conv: HWIO, dense: [in, out]). */
export interface ParameterSpec {
  name: string;
  shape: readonly number[];
  kind: ParameterKind;
  /** False for batch-norm running statistics, which are updated, not trained. */
  trainable: boolean;
  /** l of the residual block whose branch holds it (it gets no gradient when block l is dropped); 0 elsewhere. */
  block: number;
}

/** The four tensors of a batch norm, in the order they are stored. */
export const BATCH_NORM_TENSORS = ['gamma', 'beta', 'mean', 'variance'] as const;

function layerParameters(layer: Layer, block: number): ParameterSpec[] {
  switch (layer.op) {
    case 'conv': {
      const shape = [layer.kernel, layer.kernel, layer.input.channels, layer.output.channels];
      return [{ name: layer.name, shape, kind: 'conv', trainable: true, block }];
    }
    case 'batch-norm':
      return BATCH_NORM_TENSORS.map((key) => ({
        name: `${layer.name}.${key}`,
        shape: [layer.output.channels],
        kind: `bn-${key}` as const,
        trainable: key === 'gamma' || key === 'beta',
        block,
      }));
    case 'dense': {
      const features = layer.input.channels * layer.input.height * layer.input.width;
      return [
        {
          name: `${layer.name}.weight`,
          shape: [features, layer.output.channels],
          kind: 'dense-weight',
          trainable: true,
          block,
        },
        { name: `${layer.name}.bias`, shape: [layer.output.channels], kind: 'dense-bias', trainable: true, block },
      ];
    }
    case 'residual':
      return [
        ...layer.branch.flatMap((l) => layerParameters(l, layer.index)),
        ...layer.shortcut.flatMap((l) => layerParameters(l, 0)),
      ];
    default:
      return [];
  }
}

/** Every stored tensor of the network, in a fixed order, named as checkpoints and exports name them. */
export function parameterSpecs(topology: Pick<Topology, 'layers'>): ParameterSpec[] {
  return topology.layers.flatMap((l) => layerParameters(l, 0));
}

/** Multiply-accumulates of one image through each part: before the first block, each block's branch and shortcut, after the last. */
export interface ComputeCost {
  /** Every layer before the first residual block (the stem). */
  stem: number;
  /** f_l of each block, l = 1..L. */
  branches: number[];
  /** The shortcut of each block (0 for the identity and option A). */
  shortcuts: number[];
  /** Every layer after the last residual block (the head). */
  head: number;
}

/** Multiply-accumulates of one layer (convs and dense layers; the rest is counted as free). */
function layerCost(layer: Layer): number {
  switch (layer.op) {
    case 'conv':
      return (
        layer.output.height * layer.output.width * layer.kernel ** 2 * layer.input.channels * layer.output.channels
      );
    case 'dense':
      return layer.input.channels * layer.input.height * layer.input.width * layer.output.channels;
    case 'residual':
      return sumCost(layer.branch) + sumCost(layer.shortcut);
    default:
      return 0;
  }
}

const sumCost = (layers: readonly Layer[]): number => layers.reduce((sum, l) => sum + layerCost(l), 0);

/** Multiply-accumulate count per part, for the theoretical saving of dropped blocks. */
export function computeCost(topology: Pick<Topology, 'layers'>): ComputeCost {
  const first = topology.layers.findIndex((l) => l.op === 'residual');
  const last = topology.layers.findLastIndex((l) => l.op === 'residual');
  const blocks = topology.layers.filter((l) => l.op === 'residual');
  return {
    stem: sumCost(topology.layers.slice(0, Math.max(first, 0))),
    branches: blocks.map((b) => sumCost(b.branch)),
    shortcuts: blocks.map((b) => sumCost(b.shortcut)),
    head: sumCost(topology.layers.slice(last + 1)),
  };
}

/**
 * The theoretical training speed-up of stochastic depth: full conv work over its expectation when block l runs with
 * probability p_l (a dropped block costs its shortcut only). Forward and backward scale alike, so the ratio of
 * forward work is the ratio of step time where convolutions dominate.
 */
export function theoreticalSpeedup(cost: ComputeCost, survivalProbs: readonly number[]): number {
  const fixed = cost.stem + cost.head + cost.shortcuts.reduce((a, b) => a + b, 0);
  const full = fixed + cost.branches.reduce((a, b) => a + b, 0);
  const expected = fixed + cost.branches.reduce((sum, c, i) => sum + (survivalProbs[i] ?? 1) * c, 0);
  return full / expected;
}
