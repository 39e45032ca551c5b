// The paper's ImageNet family (He et al. 2016, Table 1; Huang et al. 2016, Sec. 4, ResNet-152), in torchvision's
// post-activation layout (v1.5: the stride on the 3x3 conv), so that every batch norm follows its conv and folds
// exactly. ResNet-18/34 stack basic blocks (3x3, 3x3), ResNet-50/101/152 bottlenecks (1x1, 3x3, 1x1 with 4x
// expansion); a block that changes shape has a 1x1 projection shortcut. The stem is the paper's 7x7/2 conv and 3x3/2
// max pool; the small stem (a 3x3/1 conv, no pool, as CIFAR variants of ResNet-18 use) keeps more of images under
// about 64 px, which the standard stem shrinks 4x before the first block.
// The width multiplier follows torchvision's wide_resnet50_2: bottlenecks widen their inner 3x3 (width_per_group
// 64k); basic blocks widen every block's channels.
import { z } from 'zod';
import { registerFamily } from '../family.js';
import { TopologyBuilder } from '../topology.js';

/** Channels entering each of the four stages' blocks (a bottleneck's output is 4x this). */
export const IMAGENET_STAGE_PLANES = [64, 128, 256, 512] as const;

/** Blocks per stage and block kind of each depth, as in He et al. 2016, Table 1. */
export const IMAGENET_DEPTHS = {
  18: { blocks: [2, 2, 2, 2], bottleneck: false },
  34: { blocks: [3, 4, 6, 3], bottleneck: false },
  50: { blocks: [3, 4, 6, 3], bottleneck: true },
  101: { blocks: [3, 4, 23, 3], bottleneck: true },
  152: { blocks: [3, 8, 36, 3], bottleneck: true },
} as const;

/** The stems: the paper's 7x7/2 conv with a 3x3/2 max pool, or a 3x3/1 conv for small images. */
export const IMAGENET_STEMS = ['standard', 'small'] as const;

const depths = Object.keys(IMAGENET_DEPTHS).map(Number);

const options = z
  .object({
    depth: z
      .number()
      .int()
      .refine((d) => depths.includes(d), `one of ${depths.join(', ')}`),
    widthMultiplier: z.number().int().min(1).default(1),
    stem: z.enum(IMAGENET_STEMS).default('standard'),
  })
  .strict();

/** A bottleneck's output channels per plane. */
const EXPANSION = 4;

registerFamily({
  name: 'resnet-imagenet',
  summary:
    "the paper's ImageNet ResNets in torchvision's layout: 18/34 (basic blocks), 50/101/152 (bottlenecks), projection shortcuts, 7x7 stem + max pool (or --stem small)",
  options,
  networks: {
    resnet18: { depth: 18 },
    resnet34: { depth: 34 },
    resnet50: { depth: 50 },
    resnet101: { depth: 101 },
    resnet152: { depth: 152 },
    wide_resnet50_2: { depth: 50, widthMultiplier: 2 },
    wide_resnet101_2: { depth: 101, widthMultiplier: 2 },
  },
  topology({ depth, widthMultiplier, stem }, input, numClasses) {
    const { blocks, bottleneck } = IMAGENET_DEPTHS[depth as keyof typeof IMAGENET_DEPTHS];
    const b = new TopologyBuilder({ channels: input.channels, height: input.height, width: input.width });
    if (stem === 'standard')
      b.conv('stem.conv', 64, 7, 2).batchNorm('stem.bn').relu('stem.relu').maxPool('stem.pool', 3, 2, 1);
    else b.conv('stem.conv', 64, 3, 1).batchNorm('stem.bn').relu('stem.relu');
    IMAGENET_STAGE_PLANES.forEach((planes, stage) => {
      for (let i = 0; i < blocks[stage]!; i++) {
        const name = `stage${stage + 1}.block${i}`;
        const stride = i === 0 && stage > 0 ? 2 : 1;
        const out = bottleneck ? planes * EXPANSION : planes * widthMultiplier;
        const inner = planes * widthMultiplier;
        const from = b.current.channels;
        b.residual(
          name,
          (f) => {
            if (bottleneck) {
              f.conv(`${name}.conv1`, inner, 1).batchNorm(`${name}.bn1`).relu(`${name}.relu1`);
              f.conv(`${name}.conv2`, inner, 3, stride).batchNorm(`${name}.bn2`).relu(`${name}.relu2`);
              f.conv(`${name}.conv3`, out, 1).batchNorm(`${name}.bn3`);
            } else {
              f.conv(`${name}.conv1`, out, 3, stride).batchNorm(`${name}.bn1`).relu(`${name}.relu1`);
              f.conv(`${name}.conv2`, out, 3).batchNorm(`${name}.bn2`);
            }
          },
          (s) => {
            if (stride !== 1 || from !== out) s.conv(`${name}.proj`, out, 1, stride).batchNorm(`${name}.proj_bn`);
          },
        );
      }
    });
    b.globalAveragePool('head.pool').dense('head', numClasses);
    const wide = widthMultiplier === 1 ? '' : `, width x${widthMultiplier}`;
    return {
      title: `ResNet-${depth} (ImageNet layout, ${stem} stem${wide})`,
      id: `${widthMultiplier === 1 ? '' : 'wide_'}resnet${depth}${widthMultiplier === 1 ? '' : `_${widthMultiplier}`}${stem === 'small' ? '-small-stem' : ''}`,
      input: { ...input },
      numClasses,
      layers: b.layers,
    };
  },
});
