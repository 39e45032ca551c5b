// The topology of a network as data: a list of named layers, residual blocks among them, each holding its branch f_l
// and its shortcut. A family writes its networks with the TopologyBuilder below, and everything that builds, costs,
// folds or writes a network reads this one description (Huang et al. 2016, Eq. 2):
//   H_l = ReLU(b_l * f_l(H_{l-1}) + shortcut(H_{l-1})),  b_l ~ Bernoulli(p_l) in training, p_l at test time.
// Shapes are CHW per image; convs are square with one stride and symmetric zero padding on both axes.
import { DepthfoldInputError } from './errors.js';

/** Height, width and channels of an input image. */
export interface InputShape {
  height: number;
  width: number;
  channels: number;
}

/** The shape of one image's activations: channels, height, width. */
export interface FeatureShape {
  channels: number;
  height: number;
  width: number;
}

/** What every layer has: its name (parameters and graph nodes are named after it) and its shapes. */
interface LayerBase {
  name: string;
  input: FeatureShape;
  output: FeatureShape;
}

/** A convolution without bias; the batch norm after it (if any) folds into its weights and a bias. */
export interface ConvLayer extends LayerBase {
  op: 'conv';
  kernel: number;
  stride: number;
  /** Zeros added on every side of both spatial axes. */
  pad: number;
}

/** Batch normalisation over the channels of the layer before it (always a conv: see {@link checkTopology}). */
export interface BatchNormLayer extends LayerBase {
  op: 'batch-norm';
}

/** ReLU. */
export interface ReluLayer extends LayerBase {
  op: 'relu';
}

/** Max pooling; padded positions never win (PyTorch's, ONNX's and tfjs's convention). */
export interface MaxPoolLayer extends LayerBase {
  op: 'max-pool';
  kernel: number;
  stride: number;
  pad: number;
}

/** Keeps every `stride`-th pixel on both axes: a 1x1 average pool with that stride (option A shortcuts). */
export interface SubsampleLayer extends LayerBase {
  op: 'subsample';
  stride: number;
}

/** Appends zero channels (option A shortcuts). */
export interface PadChannelsLayer extends LayerBase {
  op: 'pad-channels';
}

/** The mean over all pixels of each channel: [C, H, W] -> [C, 1, 1]. */
export interface GlobalAveragePoolLayer extends LayerBase {
  op: 'global-average-pool';
}

/** A fully connected layer with bias over the flattened features. */
export interface DenseLayer extends LayerBase {
  op: 'dense';
}

/**
 * Residual block l: ReLU(b_l * branch(x) + shortcut(x)). The branch ends in a conv and its batch norm, so that p_l
 * folds into them exactly at test time; an empty shortcut is the identity.
 */
export interface ResidualLayer extends LayerBase {
  op: 'residual';
  /** l, counted from 1 over all residual blocks of the network (the index of the survival schedule). */
  index: number;
  branch: Layer[];
  shortcut: Layer[];
}

/** One layer of a topology. */
export type Layer =
  | ConvLayer
  | BatchNormLayer
  | ReluLayer
  | MaxPoolLayer
  | SubsampleLayer
  | PadChannelsLayer
  | GlobalAveragePoolLayer
  | DenseLayer
  | ResidualLayer;

/** The layer operations, for exhaustive switches and error messages. */
export const LAYER_OPS = [
  'conv',
  'batch-norm',
  'relu',
  'max-pool',
  'subsample',
  'pad-channels',
  'global-average-pool',
  'dense',
  'residual',
] as const satisfies readonly Layer['op'][];

/** A whole network: its layers in order, from the input image to the logits. */
export interface Topology {
  /** The family that wrote it. */
  family: string;
  /** For people: `ResNet-20 (shortcut A)`. */
  title: string;
  /** For file and graph names: `resnet20`. */
  id: string;
  input: InputShape;
  numClasses: number;
  /** Batch norm epsilon, shared by training and folding. */
  batchNormEpsilon: number;
  layers: Layer[];
}

/** PyTorch's batch-norm epsilon; TensorFlow's default (1e-3) differs, so it is stored with every model. */
export const BATCH_NORM_EPSILON = 1e-5;

/** Output size of a conv or pool along one axis. */
export function convOutputSize(size: number, kernel: number, stride: number, pad: number): number {
  return Math.floor((size + 2 * pad - kernel) / stride) + 1;
}

/** Padding that keeps the size at stride 1: 1 for 3x3, 0 for 1x1, 3 for 7x7. */
export function samePadding(kernel: number): number {
  return (kernel - 1) / 2;
}

/**
 * Writes a topology layer by layer, tracking the shape, so that a family states only what differs between its nets.
 * Each method appends one layer and returns the builder.
 */
export class TopologyBuilder {
  readonly layers: Layer[] = [];
  private shape: FeatureShape;

  constructor(
    input: FeatureShape,
    private readonly counter: { residuals: number } = { residuals: 0 },
  ) {
    this.shape = { ...input };
  }

  /** The shape after the last layer. */
  get current(): FeatureShape {
    return { ...this.shape };
  }

  private push<L extends Layer>(layer: Omit<L, 'input' | 'output'>, output: FeatureShape): this {
    this.layers.push({ ...layer, input: this.shape, output } as L);
    this.shape = output;
    return this;
  }

  private spatial(kernel: number, stride: number, pad: number, channels: number): FeatureShape {
    return {
      channels,
      height: convOutputSize(this.shape.height, kernel, stride, pad),
      width: convOutputSize(this.shape.width, kernel, stride, pad),
    };
  }

  /** A k x k conv to `channels`, with the given stride and, by default, size-keeping padding. */
  conv(name: string, channels: number, kernel: number, stride = 1, pad = samePadding(kernel)): this {
    return this.push<ConvLayer>({ op: 'conv', name, kernel, stride, pad }, this.spatial(kernel, stride, pad, channels));
  }

  batchNorm(name: string): this {
    return this.push<BatchNormLayer>({ op: 'batch-norm', name }, this.shape);
  }

  relu(name: string): this {
    return this.push<ReluLayer>({ op: 'relu', name }, this.shape);
  }

  maxPool(name: string, kernel: number, stride: number, pad: number): this {
    return this.push<MaxPoolLayer>(
      { op: 'max-pool', name, kernel, stride, pad },
      this.spatial(kernel, stride, pad, this.shape.channels),
    );
  }

  subsample(name: string, stride: number): this {
    return this.push<SubsampleLayer>(
      { op: 'subsample', name, stride },
      this.spatial(1, stride, 0, this.shape.channels),
    );
  }

  padChannels(name: string, channels: number): this {
    return this.push<PadChannelsLayer>({ op: 'pad-channels', name }, { ...this.shape, channels });
  }

  globalAveragePool(name: string): this {
    return this.push<GlobalAveragePoolLayer>(
      { op: 'global-average-pool', name },
      { channels: this.shape.channels, height: 1, width: 1 },
    );
  }

  dense(name: string, features: number): this {
    return this.push<DenseLayer>({ op: 'dense', name }, { channels: features, height: 1, width: 1 });
  }

  /**
   * A residual block: `branch` and `shortcut` write their layers from this block's input; the shortcut may write
   * none (the identity). Blocks are numbered 1, 2, ... in the order they are written.
   */
  residual(
    name: string,
    branch: (b: TopologyBuilder) => void,
    shortcut: (b: TopologyBuilder) => void = () => {},
  ): this {
    const index = ++this.counter.residuals;
    const f = new TopologyBuilder(this.shape, this.counter);
    branch(f);
    const s = new TopologyBuilder(this.shape, this.counter);
    shortcut(s);
    return this.push<ResidualLayer>({ op: 'residual', name, index, branch: f.layers, shortcut: s.layers }, f.shape);
  }
}

/** The residual blocks in order, l = 1..L. */
export function residualLayers(topology: Pick<Topology, 'layers'>): ResidualLayer[] {
  return topology.layers.filter((l): l is ResidualLayer => l.op === 'residual');
}

/** Every layer, residual blocks followed by their branch and then their shortcut layers (depth first, in order). */
export function flatLayers(layers: readonly Layer[]): Layer[] {
  return layers.flatMap((l) => (l.op === 'residual' ? [l, ...flatLayers(l.branch), ...flatLayers(l.shortcut)] : [l]));
}

const sameShape = (a: FeatureShape, b: FeatureShape): boolean =>
  a.channels === b.channels && a.height === b.height && a.width === b.width;

const describeShape = (s: FeatureShape): string => `${s.channels}x${s.height}x${s.width}`;

/**
 * Throws unless the topology is one that every reader can build, fold and write exactly: shapes chain, every batch
 * norm follows a conv, every branch ends in a conv and its batch norm (p_l then folds into them), the shortcut ends
 * in the branch's shape, names are unique, residual blocks are numbered 1..L, and the net ends in a dense layer of
 * `numClasses` features.
 */
export function checkTopology(topology: Topology): void {
  const fail = (field: string, expected: string, received: unknown): never => {
    throw new DepthfoldInputError(field, expected, received, `topology ${topology.id}`);
  };
  const names = new Set<string>();
  const checkList = (layers: readonly Layer[], input: FeatureShape, where: string): FeatureShape => {
    let shape = input;
    layers.forEach((layer, i) => {
      if (names.has(layer.name)) fail(`${where}[${i}].name`, 'a name no other layer has', layer.name);
      names.add(layer.name);
      if (!sameShape(layer.input, shape)) fail(`${layer.name}.input`, describeShape(shape), describeShape(layer.input));
      if (layer.output.height < 1 || layer.output.width < 1)
        fail(`${layer.name}.output`, 'at least one pixel', describeShape(layer.output));
      if (layer.op === 'batch-norm' && layers[i - 1]?.op !== 'conv')
        fail(`${layer.name}`, 'a batch norm right after a conv (so that it folds into it)', layers[i - 1]?.op);
      if (layer.op === 'residual') {
        const out = checkList(layer.branch, layer.input, `${layer.name}.branch`);
        const tail = layer.branch.slice(-2).map((l) => l.op);
        if (tail.join() !== 'conv,batch-norm')
          fail(`${layer.name}.branch`, 'a branch that ends in a conv and its batch norm (p_l folds into them)', tail);
        const shortcut = checkList(layer.shortcut, layer.input, `${layer.name}.shortcut`);
        if (!sameShape(out, shortcut) || !sameShape(out, layer.output))
          fail(`${layer.name}.shortcut`, `output ${describeShape(out)}`, describeShape(shortcut));
      }
      shape = layer.output;
    });
    return shape;
  };
  const { height, width, channels } = topology.input;
  checkList(topology.layers, { channels, height, width }, 'layers');
  residualLayers(topology).forEach((block, i) => {
    if (block.index !== i + 1) fail(`${block.name}.index`, String(i + 1), block.index);
  });
  const last = topology.layers[topology.layers.length - 1];
  if (last?.op !== 'dense' || last.output.channels !== topology.numClasses)
    fail('layers', `a last dense layer of ${topology.numClasses} features (numClasses)`, last?.op);
}

/**
 * How many times the network halves its input, as the product of the strides on its main path: an input side
 * smaller than this leaves a stride-2 layer with a single row or column to subsample.
 */
export function totalStride(layers: readonly Layer[]): number {
  return layers.reduce((product, l) => {
    if (l.op === 'residual') return product * totalStride(l.branch);
    return 'stride' in l ? product * l.stride : product;
  }, 1);
}
