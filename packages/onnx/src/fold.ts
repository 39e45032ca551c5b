// Folding for export (Huang et al. 2016, Sec. 3, test time): H_l = ReLU(p_l * f_l(H_{l-1}) + id(H_{l-1})) with
// f_l = conv-BN-ReLU-conv-BN. A BN in eval mode is an affine map per output channel,
//   BN(conv(x)) = s * conv(x) + (beta - s * mean),  s = gamma / sqrt(variance + eps),
// so it folds into its conv: W' = s * W, b' = beta - s * mean. Because f_l ends in BN2, p_l folds into conv2 as
// well: W' = p_l * s * W, b' = p_l * (beta - s * mean). Only the branch is scaled, never the shortcut.
import {
  DepthfoldInputError,
  convPadding,
  parameterSpecs,
  residualBlocks,
  type BlockSpec,
  type NamedTensor,
  type ResNetSpec,
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

/** A folded conv with the name and geometry the graph needs. */
export interface FoldedConv extends FoldedWeights {
  /** Checkpoint name of the conv, e.g. `stage2.block0.conv1`. */
  name: string;
  stride: number;
  /** Symmetric zero padding on both spatial axes. */
  pad: number;
}

/** One residual block, folded: ReLU(conv2(ReLU(conv1(x))) + shortcut(x)) with p_l inside conv2. */
export interface FoldedBlock {
  spec: BlockSpec;
  /** p_l, already multiplied into `conv2`; kept for reference. */
  survivalProb: number;
  conv1: FoldedConv;
  conv2: FoldedConv;
  /** The 1x1 conv of a projection shortcut (with its BN folded), or null for identity and option A. */
  projection: FoldedConv | null;
}

/** The whole network with every BN and p_l folded away: plain data, ready to write as ONNX. */
export interface FoldedNetwork {
  architecture: ResNetSpec;
  stem: FoldedConv;
  blocks: FoldedBlock[];
  head: {
    /** Gemm B operand, [features, classes] (see `GEMM_TRANS_B`). */
    weight: NamedTensor;
    /** [classes]. */
    bias: NamedTensor;
  };
}

/**
 * Folds an eval-mode BN (and an optional factor, p_l for a block's last BN) into the conv before it.
 * Arithmetic is float64; the results are rounded to float32 once.
 * @param filter - Conv filter in tfjs HWIO layout [kh, kw, in, out], no bias.
 * @param bn - The BN that follows the conv, one value per output channel.
 * @param eps - The BN epsilon the network was trained with (`architecture.batchNormEpsilon`).
 * @param scale - A factor applied after the BN (p_l), 1 by default.
 * @returns OIHW weight and bias with conv'(x) = scale * BN(conv(x)).
 */
export function foldBatchNorm(filter: NamedTensor, bn: BatchNormParams, eps: number, scale = 1): FoldedWeights {
  const cout = filter.shape[filter.shape.length - 1]!;
  for (const key of ['gamma', 'beta', 'mean', 'variance'] as const) {
    if (bn[key].length !== cout)
      throw new DepthfoldInputError(`bn.${key}`, `${cout} values, one per output channel`, bn[key].length);
  }
  const factor = new Float64Array(cout);
  const bias = new Float32Array(cout);
  for (let o = 0; o < cout; o++) {
    const variance = bn.variance[o]! + eps;
    if (!(variance > 0)) throw new DepthfoldInputError(`bn.variance[${o}] + eps`, 'a positive number', variance);
    factor[o] = (scale * bn.gamma[o]!) / Math.sqrt(variance);
    bias[o] = scale * bn.beta[o]! - factor[o]! * bn.mean[o]!;
  }
  // HWIO keeps the output channel innermost, so scaling before the transpose needs no index arithmetic.
  const scaled = new Float32Array(filter.data.length);
  for (let k = 0; k < scaled.length; k++) scaled[k] = filter.data[k]! * factor[k % cout]!;
  return { weight: hwioToOihw({ shape: filter.shape, data: scaled }), bias: { shape: [cout], data: bias } };
}

/**
 * Folds every BN of the network into its conv and p_l into each block's conv2.
 * @param params - Checkpoint tensors by parameter name, tfjs layout (`Checkpoint.params`).
 * @param architecture - The network the tensors belong to.
 * @param survivalProbs - p_l for l = 1..L, the test-time factors of the branches.
 * @throws DepthfoldInputError when a tensor is missing or misshapen, or the probabilities do not fit.
 */
export function foldNetwork(
  params: ReadonlyMap<string, NamedTensor>,
  architecture: ResNetSpec,
  survivalProbs: readonly number[],
): FoldedNetwork {
  checkParameters(params, architecture);
  const blocks = residualBlocks(architecture);
  checkSurvivalProbs(survivalProbs, blocks.length);
  const eps = architecture.batchNormEpsilon;
  const conv = (name: string, bnName: string, stride: number, scale = 1): FoldedConv => {
    const filter = params.get(name)!;
    return {
      name,
      stride,
      pad: convPadding(filter.shape[0]!),
      ...foldBatchNorm(filter, batchNorm(params, bnName), eps, scale),
    };
  };
  return {
    architecture,
    stem: conv('stem.conv', 'stem.bn', 1),
    blocks: blocks.map((block, i) => ({
      spec: block,
      survivalProb: survivalProbs[i]!,
      conv1: conv(`${block.name}.conv1`, `${block.name}.bn1`, block.stride),
      conv2: conv(`${block.name}.conv2`, `${block.name}.bn2`, 1, survivalProbs[i]!),
      projection:
        block.shortcut === 'projection' ? conv(`${block.name}.proj`, `${block.name}.proj_bn`, block.stride) : null,
    })),
    head: { weight: denseToGemm(params.get('head.weight')!), bias: copy(params.get('head.bias')!) },
  };
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

/** Throws unless every parameter of `architecture` is present with its shape and size. */
export function checkParameters(params: ReadonlyMap<string, NamedTensor>, architecture: ResNetSpec): void {
  for (const p of parameterSpecs(architecture)) {
    const t = params.get(p.name);
    const expected = `shape [${p.shape.join(', ')}]`;
    if (!t) throw new DepthfoldInputError(`tensor ${p.name}`, expected, undefined);
    if (t.shape.join() !== p.shape.join())
      throw new DepthfoldInputError(`tensor ${p.name}`, expected, `[${t.shape.join(', ')}]`);
    const size = p.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== size)
      throw new DepthfoldInputError(`tensor ${p.name}`, `${size} values`, `${t.data.length} values`);
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
