// The ResNet-(6n+2) family of the paper's CIFAR experiments (He et al. 2016, used by Huang et al. 2016):
// a 3x3 stem conv, three stages of n residual blocks with 16/32/64 channels (stride 2 entering stages 2 and 3),
// global average pooling and a linear head. Every package reads the architecture from here.
import { DepthfoldInputError } from './errors.js';

/** How a block that changes shape maps its input to the output shape. */
export type ShortcutKind = 'A' | 'projection';

/** Height, width and channels of an input image. */
export interface InputShape {
  height: number;
  width: number;
  channels: number;
}

/** The whole architecture of a network: enough to build, fold and export it. */
export interface ResNetSpec {
  family: 'resnet-6n+2';
  depth: number;
  blocksPerStage: number;
  widths: readonly number[];
  strides: readonly number[];
  /** Option A: average pool 1x1 with stride (subsampling) and zero-padded channels; or a 1x1 conv + BN. */
  shortcut: ShortcutKind;
  input: InputShape;
  numClasses: number;
  /** Batch norm epsilon, shared by training and folding. */
  batchNormEpsilon: number;
}

/** One residual block: H_l = ReLU(b_l * f_l(H_{l-1}) + id(H_{l-1})), f = conv-BN-ReLU-conv-BN. */
export interface BlockSpec {
  /** l, counted from 1 over all blocks of the network (the index of the survival schedule). */
  index: number;
  /** Parameter name prefix, e.g. `stage2.block0`. */
  name: string;
  stage: number;
  inChannels: number;
  outChannels: number;
  stride: number;
  inSize: readonly [number, number];
  outSize: readonly [number, number];
  /** `identity` when the shape does not change. */
  shortcut: 'identity' | ShortcutKind;
}

/** What a stored tensor is; decides folding, weight decay and whether it is trained. */
export type ParameterKind = 'conv' | 'bn-gamma' | 'bn-beta' | 'bn-mean' | 'bn-variance' | 'dense-weight' | 'dense-bias';

/** A named parameter with its shape in TensorFlow.js layout (conv: HWIO, dense: [in, out]). */
export interface ParameterSpec {
  name: string;
  shape: readonly number[];
  kind: ParameterKind;
  /** False for batch-norm running statistics, which are updated, not trained. */
  trainable: boolean;
}

/** The paper's widths and strides of the three stages. */
export const STAGE_WIDTHS = [16, 32, 64] as const;
/** Stride of the first block of each stage. */
export const STAGE_STRIDES = [1, 2, 2] as const;
/** PyTorch's batch-norm epsilon; TensorFlow's default (1e-3) differs, so it is stored with every model. */
export const BATCH_NORM_EPSILON = 1e-5;

/** Options for {@link resnetSpec}. */
export interface ResNetOptions {
  depth: number;
  input: InputShape;
  numClasses: number;
  shortcut?: ShortcutKind;
}

/** The spec of ResNet-`depth`; depth must be 6n+2 (8, 14, 20, 32, 44, 56, 110, ...). */
export function resnetSpec({ depth, input, numClasses, shortcut = 'A' }: ResNetOptions): ResNetSpec {
  if (!Number.isInteger(depth) || depth < 8 || (depth - 2) % 6 !== 0) {
    throw new DepthfoldInputError('depth', 'an integer 6n+2 >= 8 (8, 14, 20, 32, 44, 56, 110)', depth);
  }
  if (!Number.isInteger(numClasses) || numClasses < 2) {
    throw new DepthfoldInputError('numClasses', 'an integer >= 2', numClasses);
  }
  for (const key of ['height', 'width', 'channels'] as const) {
    if (!Number.isInteger(input[key]) || input[key] < 1) {
      throw new DepthfoldInputError(`input.${key}`, 'a positive integer', input[key]);
    }
  }
  return {
    family: 'resnet-6n+2',
    depth,
    blocksPerStage: (depth - 2) / 6,
    widths: STAGE_WIDTHS,
    strides: STAGE_STRIDES,
    shortcut,
    input: { ...input },
    numClasses,
    batchNormEpsilon: BATCH_NORM_EPSILON,
  };
}

/** Padding that keeps the size for stride 1: 1 for 3x3, 0 for 1x1 (symmetric, as in the paper's Torch code). */
export function convPadding(kernel: number): number {
  return (kernel - 1) / 2;
}

/** Output size of a conv or pool along one axis. */
export function convOutputSize(size: number, kernel: number, stride: number, pad: number): number {
  return Math.floor((size + 2 * pad - kernel) / stride) + 1;
}

/** The residual blocks in order, l = 1..L. */
export function residualBlocks(spec: ResNetSpec): BlockSpec[] {
  const blocks: BlockSpec[] = [];
  let channels = spec.widths[0]!;
  let size: readonly [number, number] = [spec.input.height, spec.input.width];
  spec.widths.forEach((width, stage) => {
    for (let b = 0; b < spec.blocksPerStage; b++) {
      const stride = b === 0 ? spec.strides[stage]! : 1;
      const outSize = [convOutputSize(size[0], 3, stride, 1), convOutputSize(size[1], 3, stride, 1)] as const;
      const reshapes = stride !== 1 || channels !== width;
      blocks.push({
        index: blocks.length + 1,
        name: `stage${stage + 1}.block${b}`,
        stage: stage + 1,
        inChannels: channels,
        outChannels: width,
        stride,
        inSize: size,
        outSize,
        shortcut: reshapes ? spec.shortcut : 'identity',
      });
      channels = width;
      size = outSize;
    }
  });
  return blocks;
}

function batchNormParameters(prefix: string, channels: number): ParameterSpec[] {
  return [
    { name: `${prefix}.gamma`, shape: [channels], kind: 'bn-gamma', trainable: true },
    { name: `${prefix}.beta`, shape: [channels], kind: 'bn-beta', trainable: true },
    { name: `${prefix}.mean`, shape: [channels], kind: 'bn-mean', trainable: false },
    { name: `${prefix}.variance`, shape: [channels], kind: 'bn-variance', trainable: false },
  ];
}

/** Every stored tensor of the network, in a fixed order, named as checkpoints and exports name them. */
export function parameterSpecs(spec: ResNetSpec): ParameterSpec[] {
  const stem = spec.widths[0]!;
  const params: ParameterSpec[] = [
    { name: 'stem.conv', shape: [3, 3, spec.input.channels, stem], kind: 'conv', trainable: true },
    ...batchNormParameters('stem.bn', stem),
  ];
  for (const block of residualBlocks(spec)) {
    const { name, inChannels: cin, outChannels: cout } = block;
    params.push({ name: `${name}.conv1`, shape: [3, 3, cin, cout], kind: 'conv', trainable: true });
    params.push(...batchNormParameters(`${name}.bn1`, cout));
    params.push({ name: `${name}.conv2`, shape: [3, 3, cout, cout], kind: 'conv', trainable: true });
    params.push(...batchNormParameters(`${name}.bn2`, cout));
    if (block.shortcut === 'projection') {
      params.push({ name: `${name}.proj`, shape: [1, 1, cin, cout], kind: 'conv', trainable: true });
      params.push(...batchNormParameters(`${name}.proj_bn`, cout));
    }
  }
  const features = spec.widths[spec.widths.length - 1]!;
  params.push({ name: 'head.weight', shape: [features, spec.numClasses], kind: 'dense-weight', trainable: true });
  params.push({ name: 'head.bias', shape: [spec.numClasses], kind: 'dense-bias', trainable: true });
  return params;
}

/** Multiply-accumulates of one image through each part: stem, each block's branch and shortcut, head. */
export interface ComputeCost {
  stem: number;
  branches: number[];
  shortcuts: number[];
  head: number;
}

/** Multiply-accumulate count per part, for the theoretical saving of dropped blocks. */
export function computeCost(spec: ResNetSpec): ComputeCost {
  const { height, width, channels } = spec.input;
  const stem = height * width * 9 * channels * spec.widths[0]!;
  const blocks = residualBlocks(spec);
  const branches = blocks.map((b) => {
    const pixels = b.outSize[0] * b.outSize[1];
    return pixels * 9 * b.inChannels * b.outChannels + pixels * 9 * b.outChannels * b.outChannels;
  });
  const shortcuts = blocks.map((b) =>
    b.shortcut === 'projection' ? b.outSize[0] * b.outSize[1] * b.inChannels * b.outChannels : 0,
  );
  const head = spec.widths[spec.widths.length - 1]! * spec.numClasses;
  return { stem, branches, shortcuts, head };
}
