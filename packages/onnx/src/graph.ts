// The ONNX graph (NCHW) of a network, written by walking its topology: each layer is one or two nodes, and a
// residual block is its branch, its shortcut, an Add and a Relu: ReLU(p_l * f_l(x) + shortcut(x)). One walk serves
// both forms: folded (each conv carries its BN and p_l as weights and bias; no Mul, no BN) and unfolded (Conv without
// bias, eval-mode BatchNormalization, Mul by p_l), the latter kept for benchmarks and for testing the folding.
// The writer knows layers, not families.
import {
  BATCH_NORM_TENSORS,
  type Checkpoint,
  type Layer,
  type ModelMetadata,
  type NamedTensor,
  type ResidualLayer,
  residualLayers,
  type Topology,
  topologyOf,
} from '@depthfold/core';
import { checkMetadataMatches, INPUT_NAME, OUTPUT_NAME } from './consistency.js';
import { batchNorm, checkParameters, checkSurvivalProbs, type FoldedWeights, foldNetwork } from './fold.js';
import { type AttributeValue, floatTensor, floatValueInfo, GraphBuilder, int64Tensor } from './graph-builder.js';
import { denseToGemm, GEMM_TRANS_B, hwioToOihw } from './layout.js';
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

/** The ONNX operators a depthfold graph may hold, folded; the unfolded form adds BatchNormalization and Mul. */
export const FOLDED_OPS = [
  'Conv',
  'Relu',
  'Add',
  'MaxPool',
  'AveragePool',
  'Pad',
  'GlobalAveragePool',
  'Flatten',
  'Gemm',
] as const;

/** Options of {@link buildModel}. */
export interface BuildModelOptions {
  /** True: BN and p_l folded into the convs. False: Conv, BatchNormalization and Mul nodes as trained. */
  folded: boolean;
}

/** How convs and batch norms are written: the one thing in which the two forms differ. */
interface ConvWriter {
  /** Writes a conv layer (and, folded, the BN after it); returns its output. */
  conv(g: GraphBuilder, x: string, layer: Extract<Layer, { op: 'conv' }>): string;
  /** Writes a batch norm (nothing, folded); `block` is set for the BN that ends block l's branch. */
  batchNorm(g: GraphBuilder, x: string, layer: Layer, block?: ResidualLayer): string;
}

function windowAttributes(kernel: number, stride: number, pad: number): Record<string, AttributeValue> {
  return {
    kernel_shape: { ints: [kernel, kernel] },
    strides: { ints: [stride, stride] },
    pads: { ints: [pad, pad, pad, pad] },
  };
}

function foldedWriter(convs: ReadonlyMap<string, FoldedWeights>): ConvWriter {
  return {
    conv(g, x, layer) {
      const folded = convs.get(layer.name)!;
      const weight = g.initializer(floatTensor(`${layer.name}.weight`, folded.weight));
      const bias = g.initializer(floatTensor(`${layer.name}.bias`, folded.bias));
      return g.node('Conv', layer.name, [x, weight, bias], windowAttributes(layer.kernel, layer.stride, layer.pad));
    },
    batchNorm: (_g, x) => x,
  };
}

function unfoldedWriter(params: ReadonlyMap<string, NamedTensor>, probs: readonly number[], eps: number): ConvWriter {
  return {
    conv(g, x, layer) {
      const weight = g.initializer(floatTensor(`${layer.name}.weight`, hwioToOihw(params.get(layer.name)!)));
      return g.node('Conv', layer.name, [x, weight], windowAttributes(layer.kernel, layer.stride, layer.pad));
    },
    batchNorm(g, x, layer, block) {
      const stats = batchNorm(params, layer.name);
      const inputs = BATCH_NORM_TENSORS.map((key) =>
        g.initializer(floatTensor(`${layer.name}.${key}`, { shape: [stats[key].length], data: stats[key] })),
      );
      const bn = g.node('BatchNormalization', layer.name, [x, ...inputs], { epsilon: { float: eps } });
      if (!block) return bn;
      const p = g.initializer(
        floatTensor(`${block.name}.survival_prob`, { shape: [], data: Float32Array.of(probs[block.index - 1]!) }),
      );
      return g.node('Mul', `${block.name}.survival`, [bn, p]);
    },
  };
}

/** Writes `layers` from `x`; `block` is the residual block whose branch they are, if any. Returns the output. */
function writeLayers(
  g: GraphBuilder,
  x: string,
  layers: readonly Layer[],
  writer: ConvWriter,
  dense: ReadonlyMap<string, FoldedWeights>,
  block?: ResidualLayer,
): string {
  return layers.reduce((input, layer, i) => {
    switch (layer.op) {
      case 'conv':
        return writer.conv(g, input, layer);
      case 'batch-norm':
        return writer.batchNorm(g, input, layer, i === layers.length - 1 ? block : undefined);
      case 'relu':
        return g.node('Relu', layer.name, [input]);
      case 'max-pool':
        return g.node('MaxPool', layer.name, [input], windowAttributes(layer.kernel, layer.stride, layer.pad));
      case 'subsample':
        // A 1x1 average pool of stride s keeps every s-th pixel.
        return g.node('AveragePool', layer.name, [input], windowAttributes(1, layer.stride, 0));
      case 'pad-channels': {
        // NCHW begin/end pads: zeros after the last channel. The pads tensor is named after its node, plural.
        const extra = layer.output.channels - layer.input.channels;
        const pads = g.initializer(int64Tensor(`${layer.name}s`, [8], [0, 0, 0, 0, 0, extra, 0, 0]));
        return g.node('Pad', layer.name, [input, pads], { mode: { string: 'constant' } });
      }
      case 'global-average-pool':
        return g.node('GlobalAveragePool', layer.name, [input]);
      case 'dense': {
        const features = g.node('Flatten', `${layer.name}.flatten`, [input], { axis: { int: 1 } });
        const { weight, bias } = dense.get(layer.name)!;
        const w = g.initializer(floatTensor(`${layer.name}.weight`, weight));
        const b = g.initializer(floatTensor(`${layer.name}.bias`, bias));
        const last = i === layers.length - 1 && block === undefined;
        const transB = { transB: { int: GEMM_TRANS_B } };
        return g.node(
          'Gemm',
          `${layer.name}.dense`,
          [features, w, b],
          transB,
          last ? OUTPUT_NAME : `${layer.name}.dense`,
        );
      }
      case 'residual': {
        const branch = writeLayers(g, input, layer.branch, writer, dense, layer);
        const shortcut = writeLayers(g, input, layer.shortcut, writer, dense);
        const sum = g.node('Add', `${layer.name}.add`, [branch, shortcut]);
        return g.node('Relu', `${layer.name}.relu`, [sum]);
      }
    }
  }, x);
}

/** Every dense layer's Gemm operands, unfolded (dense layers have no BN to fold). */
function denseOperands(params: ReadonlyMap<string, NamedTensor>, topology: Topology): Map<string, FoldedWeights> {
  const dense = topology.layers.filter((l) => l.op === 'dense');
  return new Map(
    dense.map((l) => [
      l.name,
      { weight: denseToGemm(params.get(`${l.name}.weight`)!), bias: params.get(`${l.name}.bias`)! },
    ]),
  );
}

/**
 * Builds the ONNX model of a checkpoint: graph, initializers (raw little-endian float32) and metadata_props.
 * @param checkpoint - Weights and architecture; survival probabilities are taken from `metadata.schedule`.
 * @param metadata - Written as metadata_props after validation; must describe this checkpoint and form.
 * @param options - `folded` selects the exported form.
 * @throws DepthfoldInputError for invalid or mismatched metadata and missing, misshapen or non-finite tensors.
 */
export function buildModel(checkpoint: Checkpoint, metadata: ModelMetadata, { folded }: BuildModelOptions): ModelProto {
  const metadataProps = metadataToProps(metadata);
  checkMetadataMatches(checkpoint, metadata, folded);
  const topology = topologyOf(checkpoint.info.architecture);
  const probs = checkpoint.info.schedule.survivalProbs;
  const { height, width, channels } = topology.input;
  const g = new GraphBuilder([INPUT_NAME]);
  if (folded) {
    const net = foldNetwork(checkpoint.params, topology, probs);
    writeLayers(g, INPUT_NAME, topology.layers, foldedWriter(net.convs), net.dense);
  } else {
    checkParameters(checkpoint.params, topology);
    checkSurvivalProbs(probs, residualLayers(topology).length);
    const writer = unfoldedWriter(checkpoint.params, probs, topology.batchNormEpsilon);
    writeLayers(g, INPUT_NAME, topology.layers, writer, denseOperands(checkpoint.params, topology));
  }
  const form = folded ? 'folded' : 'unfolded';
  const graph = g.build(
    `${topology.id}-${form}`,
    [floatValueInfo(INPUT_NAME, [BATCH_DIM, channels, height, width])],
    [floatValueInfo(OUTPUT_NAME, [BATCH_DIM, topology.numClasses])],
    `${topology.title} trained with stochastic depth, ${form}; input NCHW, output logits.`,
  );
  return {
    ir_version: IR_VERSION,
    opset_import: [{ domain: '', version: OPSET_VERSION }],
    producer_name: PRODUCER_NAME,
    graph,
    metadata_props: metadataProps,
  };
}
