// The ONNX graph of a ResNet-(6n+2) (NCHW): stem conv-BN-ReLU, blocks ReLU(p_l * f_l(x) + shortcut(x)) with
// f_l = conv-BN-ReLU-conv-BN, then global average pool, flatten and Gemm. One topology serves both forms:
// folded (each conv carries its BN and p_l as weights and bias; no Mul, no BN) and unfolded (Conv without bias,
// eval-mode BatchNormalization, Mul by p_l), the latter kept for benchmarks and for testing the folding.
import {
  convPadding,
  residualBlocks,
  type BlockSpec,
  type Checkpoint,
  type ModelMetadata,
  type NamedTensor,
  type ResNetSpec,
} from '@depthfold/core';
import { checkMetadataMatches, INPUT_NAME, OUTPUT_NAME } from './consistency.js';
import { batchNorm, checkParameters, checkSurvivalProbs, foldNetwork, type FoldedConv } from './fold.js';
import { floatTensor, floatValueInfo, GraphBuilder, int64Tensor, type AttributeValue } from './graph-builder.js';
import { GEMM_TRANS_B, denseToGemm, hwioToOihw } from './layout.js';
import { metadataToProps } from './metadata-props.js';
import type { ModelProto } from './onnx-proto.js';

/** ONNX IR version written (IR 8 is what ONNX v1.12.0 writes). */
export const IR_VERSION = 8;
/** Version of the default ONNX operator set imported (Pad takes its pads as an input since opset 11). */
export const OPSET_VERSION = 17;
/** ModelProto.producer_name. */
export const PRODUCER_NAME = 'depthfold';
/** The symbolic batch dimension of the input and output. */
export const BATCH_DIM = 'N';

/** Options of {@link buildModel}. */
export interface BuildModelOptions {
  /** True: BN and p_l folded into the convs. False: Conv, BatchNormalization and Mul nodes as trained. */
  folded: boolean;
}

/** One conv and the BN after it; `survival` is set on a block's last BN, whose output is scaled by p_l. */
interface ConvLayer {
  conv: string;
  bn: string;
  stride: number;
  survival?: { block: string; prob: number };
}

/** Writes one ConvLayer into the graph; returns the name of its output. */
type ConvLayerWriter = (g: GraphBuilder, x: string, layer: ConvLayer) => string;

function convAttributes(weightOihw: readonly number[], stride: number): Record<string, AttributeValue> {
  const [, , kh, kw] = weightOihw as [number, number, number, number];
  const pad = convPadding(kh);
  return {
    kernel_shape: { ints: [kh, kw] },
    strides: { ints: [stride, stride] },
    pads: { ints: [pad, pad, pad, pad] },
  };
}

function foldedWriter(convs: ReadonlyMap<string, FoldedConv>): ConvLayerWriter {
  return (g, x, layer) => {
    const conv = convs.get(layer.conv)!;
    const weight = g.initializer(floatTensor(`${conv.name}.weight`, conv.weight));
    const bias = g.initializer(floatTensor(`${conv.name}.bias`, conv.bias));
    return g.node('Conv', conv.name, [x, weight, bias], convAttributes(conv.weight.shape, layer.stride));
  };
}

function unfoldedWriter(params: ReadonlyMap<string, NamedTensor>, eps: number): ConvLayerWriter {
  return (g, x, layer) => {
    const filter = hwioToOihw(params.get(layer.conv)!);
    const weight = g.initializer(floatTensor(`${layer.conv}.weight`, filter));
    const conv = g.node('Conv', layer.conv, [x, weight], convAttributes(filter.shape, layer.stride));
    const stats = batchNorm(params, layer.bn);
    const bnInputs = (['gamma', 'beta', 'mean', 'variance'] as const).map((key) =>
      g.initializer(floatTensor(`${layer.bn}.${key}`, { shape: [stats[key].length], data: stats[key] })),
    );
    const bn = g.node('BatchNormalization', layer.bn, [conv, ...bnInputs], { epsilon: { float: eps } });
    if (!layer.survival) return bn;
    const { block, prob } = layer.survival;
    const p = g.initializer(floatTensor(`${block}.survival_prob`, { shape: [], data: Float32Array.of(prob) }));
    return g.node('Mul', `${block}.survival`, [bn, p]);
  };
}

// Option A: subsample with a 1x1 average pool of stride s, then append zero channels (pads are NCHW begin/end).
function optionAShortcut(g: GraphBuilder, x: string, block: BlockSpec): string {
  let y = x;
  if (block.stride !== 1) {
    y = g.node('AveragePool', `${block.name}.shortcut.pool`, [y], {
      kernel_shape: { ints: [1, 1] },
      strides: { ints: [block.stride, block.stride] },
      pads: { ints: [0, 0, 0, 0] },
    });
  }
  const extra = block.outChannels - block.inChannels;
  if (extra > 0) {
    const pads = g.initializer(int64Tensor(`${block.name}.shortcut.pads`, [8], [0, 0, 0, 0, 0, extra, 0, 0]));
    y = g.node('Pad', `${block.name}.shortcut.pad`, [y, pads], { mode: { string: 'constant' } });
  }
  return y;
}

function writeNetwork(
  g: GraphBuilder,
  spec: ResNetSpec,
  probs: readonly number[],
  head: { weight: NamedTensor; bias: NamedTensor },
  write: ConvLayerWriter,
): void {
  let x = write(g, INPUT_NAME, { conv: 'stem.conv', bn: 'stem.bn', stride: 1 });
  x = g.node('Relu', 'stem.relu', [x]);
  residualBlocks(spec).forEach((block, i) => {
    const { name, stride } = block;
    let branch = write(g, x, { conv: `${name}.conv1`, bn: `${name}.bn1`, stride });
    branch = g.node('Relu', `${name}.relu1`, [branch]);
    branch = write(g, branch, {
      conv: `${name}.conv2`,
      bn: `${name}.bn2`,
      stride: 1,
      survival: { block: name, prob: probs[i]! },
    });
    let shortcut = x;
    if (block.shortcut === 'A') shortcut = optionAShortcut(g, x, block);
    if (block.shortcut === 'projection')
      shortcut = write(g, x, { conv: `${name}.proj`, bn: `${name}.proj_bn`, stride });
    const sum = g.node('Add', `${name}.add`, [branch, shortcut]);
    x = g.node('Relu', `${name}.relu`, [sum]);
  });
  const pooled = g.node('GlobalAveragePool', 'head.pool', [x]);
  const features = g.node('Flatten', 'head.flatten', [pooled], { axis: { int: 1 } });
  const weight = g.initializer(floatTensor('head.weight', head.weight));
  const bias = g.initializer(floatTensor('head.bias', head.bias));
  g.node('Gemm', 'head.dense', [features, weight, bias], { transB: { int: GEMM_TRANS_B } }, OUTPUT_NAME);
}

/**
 * Builds the ONNX model of a checkpoint: graph, initializers (raw little-endian float32) and metadata_props.
 * @param checkpoint - Weights and architecture; survival probabilities are taken from `metadata.schedule`.
 * @param metadata - Written as metadata_props after validation; must describe this checkpoint and form.
 * @param options - `folded` selects the exported form.
 * @throws DepthfoldInputError for invalid or mismatched metadata and missing or misshapen tensors.
 */
export function buildModel(checkpoint: Checkpoint, metadata: ModelMetadata, { folded }: BuildModelOptions): ModelProto {
  const metadataProps = metadataToProps(metadata);
  checkMetadataMatches(checkpoint, metadata, folded);
  const spec = checkpoint.info.architecture as ResNetSpec;
  const probs = metadata.schedule.survivalProbs;
  const { height, width, channels } = spec.input;
  const g = new GraphBuilder([INPUT_NAME]);
  if (folded) {
    const net = foldNetwork(checkpoint.params, spec, probs);
    const convs = new Map<string, FoldedConv>([[net.stem.name, net.stem]]);
    for (const b of net.blocks) for (const c of [b.conv1, b.conv2, b.projection]) if (c) convs.set(c.name, c);
    writeNetwork(g, spec, probs, net.head, foldedWriter(convs));
  } else {
    checkParameters(checkpoint.params, spec);
    checkSurvivalProbs(probs, residualBlocks(spec).length);
    const head = {
      weight: denseToGemm(checkpoint.params.get('head.weight')!),
      bias: checkpoint.params.get('head.bias')!,
    };
    writeNetwork(g, spec, probs, head, unfoldedWriter(checkpoint.params, spec.batchNormEpsilon));
  }
  const form = folded ? 'folded' : 'unfolded';
  const graph = g.build(
    `resnet${spec.depth}-${form}`,
    [floatValueInfo(INPUT_NAME, [BATCH_DIM, channels, height, width])],
    [floatValueInfo(OUTPUT_NAME, [BATCH_DIM, spec.numClasses])],
    `ResNet-${spec.depth} (shortcut ${spec.shortcut}) trained with stochastic depth, ${form}; input NCHW, output logits.`,
  );
  return {
    ir_version: IR_VERSION,
    opset_import: [{ domain: '', version: OPSET_VERSION }],
    producer_name: PRODUCER_NAME,
    graph,
    metadata_props: metadataProps,
  };
}
