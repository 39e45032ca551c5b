// Folding for export (Huang et al. 2016, Sec. 3, test time): H_l = ReLU(p_l * f_l(H_{l-1}) + shortcut(H_{l-1})).
// A BN in eval mode is an affine map per output channel,
//   BN(conv(x)) = s * conv(x) + (beta - s * mean),  s = gamma / sqrt(variance + eps),
// so it folds into the conv before it: W' = s * W, b' = beta - s * mean. Every branch ends in a conv and its BN (the
// topology guarantees it), so p_l folds there too: W' = p_l * s * W, b' = p_l * (beta - s * mean). Only the branch is
// scaled, never the shortcut. The walk reads the topology alone: it knows no family.
import {
  BATCH_NORM_TENSORS,
  DepthfoldInputError,
  type Layer,
  type NamedTensor,
  parameterSpecs,
  residualLayers,
  type Topology,
} from '@depthfold/core';
import { denseToGemm, hwioToOihw } from './layout.js';

/** The four per-channel tensors of one batch-norm layer. */
export interface BatchNormParams {
  gamma: Float32Array;
  beta: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
}

/** A conv with its BN (and p_l) folded in, in ONNX layout. */
export interface FoldedWeights {
  /** [out, in, kh, kw] (OIHW). */
  weight: NamedTensor;
  /** [out]. */
  bias: NamedTensor;
}

/** The whole network with every BN and p_l folded away: plain data, ready to write as ONNX. */
export interface FoldedNetwork {
  topology: Topology;
  /** p_l of each block, already multiplied into the last conv of its branch; kept for reference. */
  survivalProbs: readonly number[];
  /** Every conv, folded, by the conv layer's name. */
  convs: ReadonlyMap<string, FoldedWeights>;
  /** Every dense layer's Gemm operands (B is [in, out], see `GEMM_TRANS_B`), by layer name. */
  dense: ReadonlyMap<string, FoldedWeights>;
}

/**
 * Folds an eval-mode BN (and an optional factor, p_l for a block's last BN) into the conv before it.
 * Arithmetic is float64; the results are rounded to float32 once.
 * @param filter - Conv filter in tfjs HWIO layout [kh, kw, in, out], no bias.
 * @param bn - The BN that follows the conv, one value per output channel.
 * @param eps - The BN epsilon the network was trained with (`batchNormEpsilon`).
 * @param scale - A factor applied after the BN (p_l), 1 by default.
 * @param name - The BN's name, for errors (default `bn`).
 * @returns OIHW weight and bias with conv'(x) = scale * BN(conv(x)).
 */
export function foldBatchNorm(
  filter: NamedTensor,
  bn: BatchNormParams,
  eps: number,
  scale = 1,
  name = 'bn',
): FoldedWeights {
  const cout = filter.shape[filter.shape.length - 1]!;
  for (const key of BATCH_NORM_TENSORS) {
    if (bn[key].length !== cout)
      throw new DepthfoldInputError(`${name}.${key}`, `${cout} values, one per output channel`, bn[key].length);
  }
  const factor = new Float64Array(cout);
  const bias = new Float32Array(cout);
  for (let o = 0; o < cout; o++) {
    const variance = bn.variance[o]! + eps;
    if (!(variance > 0)) throw new DepthfoldInputError(`${name}.variance[${o}] + eps`, 'a positive number', variance);
    factor[o] = (scale * bn.gamma[o]!) / Math.sqrt(variance);
    bias[o] = scale * bn.beta[o]! - factor[o]! * bn.mean[o]!;
  }
  // HWIO keeps the output channel innermost, so scaling before the transpose needs no index arithmetic.
  const scaled = new Float32Array(filter.data.length);
  for (let k = 0; k < scaled.length; k++) scaled[k] = filter.data[k]! * factor[k % cout]!;
  return { weight: hwioToOihw({ shape: filter.shape, data: scaled }), bias: { shape: [cout], data: bias } };
}

/**
 * Folds every BN of the network into its conv and p_l into the last conv of each block's branch.
 * @param params - Checkpoint tensors by parameter name, tfjs layout (`Checkpoint.params`).
 * @param topology - The network the tensors belong to.
 * @param survivalProbs - p_l for l = 1..L, the test-time factors of the branches.
 * @throws DepthfoldInputError when a tensor is missing, misshapen or not finite, or the probabilities do not fit.
 */
export function foldNetwork(
  params: ReadonlyMap<string, NamedTensor>,
  topology: Topology,
  survivalProbs: readonly number[],
): FoldedNetwork {
  checkParameters(params, topology);
  checkSurvivalProbs(survivalProbs, residualLayers(topology).length);
  const convs = new Map<string, FoldedWeights>();
  const dense = new Map<string, FoldedWeights>();
  const fold = (layers: readonly Layer[], branchOf?: number): void => {
    layers.forEach((layer, i) => {
      if (layer.op === 'residual') {
        fold(layer.branch, layer.index);
        fold(layer.shortcut);
      } else if (layer.op === 'dense') {
        dense.set(layer.name, {
          weight: denseToGemm(params.get(`${layer.name}.weight`)!),
          bias: copy(params.get(`${layer.name}.bias`)!),
        });
      } else if (layer.op === 'conv') {
        const next = layers[i + 1];
        // The topology ends every branch in a conv and its BN: p_l goes into that conv.
        const endsBranch = branchOf !== undefined && i === layers.length - 2;
        const scale = endsBranch ? survivalProbs[branchOf - 1]! : 1;
        const filter = params.get(layer.name)!;
        convs.set(
          layer.name,
          next?.op === 'batch-norm'
            ? foldBatchNorm(filter, batchNorm(params, next.name), topology.batchNormEpsilon, scale, next.name)
            : {
                weight: hwioToOihw(filter),
                bias: { shape: [layer.output.channels], data: new Float32Array(layer.output.channels) },
              },
        );
      }
    });
  };
  fold(topology.layers);
  return { topology, survivalProbs: [...survivalProbs], convs, dense };
}

/** The BN tensors stored under `prefix` (`.gamma`, `.beta`, `.mean`, `.variance`). */
export function batchNorm(params: ReadonlyMap<string, NamedTensor>, prefix: string): BatchNormParams {
  const get = (key: string): Float32Array => {
    const t = params.get(`${prefix}.${key}`);
    if (!t) throw new DepthfoldInputError(`tensor ${prefix}.${key}`, 'a batch-norm tensor', undefined);
    return t.data;
  };
  return { gamma: get('gamma'), beta: get('beta'), mean: get('mean'), variance: get('variance') };
}

/**
 * Throws unless every parameter of `topology` is present with its shape and size, and every value is finite: a NaN
 * or infinite weight is named with its index here, rather than surfacing as a NaN parity figure.
 */
export function checkParameters(params: ReadonlyMap<string, NamedTensor>, topology: Pick<Topology, 'layers'>): void {
  for (const p of parameterSpecs(topology)) {
    const t = params.get(p.name);
    const expected = `shape [${p.shape.join(', ')}]`;
    if (!t) throw new DepthfoldInputError(`tensor ${p.name}`, expected, undefined);
    if (t.shape.join() !== p.shape.join())
      throw new DepthfoldInputError(`tensor ${p.name}`, expected, `[${t.shape.join(', ')}]`);
    const size = p.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== size)
      throw new DepthfoldInputError(`tensor ${p.name}`, `${size} values`, `${t.data.length} values`);
    const bad = t.data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new DepthfoldInputError(`tensor ${p.name}[${bad}]`, 'a finite number', t.data[bad]);
  }
}

/** Throws unless there is one p_l in (0, 1] per block. */
export function checkSurvivalProbs(survivalProbs: readonly number[], numBlocks: number): void {
  if (survivalProbs.length !== numBlocks) {
    throw new DepthfoldInputError('survivalProbs', `${numBlocks} probabilities, one per block`, survivalProbs.length);
  }
  survivalProbs.forEach((p, i) => {
    if (!(p > 0 && p <= 1)) throw new DepthfoldInputError(`survivalProbs[${i}]`, 'a number in (0, 1]', p);
  });
}

function copy(t: NamedTensor): NamedTensor {
  return { shape: [...t.shape], data: new Float32Array(t.data) };
}
