// ResNet-(6n+2), the family of the paper's CIFAR experiments (He et al. 2016, Sec. 4.2; Huang et al. 2016, Sec. 4):
// a 3x3 stem conv, three stages of n basic blocks with 16/32/64 channels (stride 2 entering stages 2 and 3), global
// average pooling and a linear head. Blocks that change shape use option A (subsample, append zero channels) or a
// 1x1 projection. A width multiplier k gives the wide variant with 16k/32k/64k channels (Zagoruyko & Komodakis 2016,
// in its post-activation form, so that every batch norm folds exactly).
import { z } from 'zod';
import { DepthfoldInputError } from '../errors.js';
import { registerFamily } from '../family.js';
import { TopologyBuilder } from '../topology.js';

/** The paper's widths of the three stages (times the width multiplier). */
export const CIFAR_STAGE_WIDTHS = [16, 32, 64] as const;

/** How a block that changes shape maps its input: option A (subsample + zero channels) or a 1x1 conv + BN. */
export const CIFAR_SHORTCUTS = ['A', 'projection'] as const;

const options = z
  .object({
    depth: z
      .number()
      .int()
      .min(8)
      .refine((d) => (d - 2) % 6 === 0, 'a depth 6n+2 (8, 14, 20, 32, 44, 56, 110, 1202)'),
    shortcut: z.enum(CIFAR_SHORTCUTS).default('A'),
    widthMultiplier: z.number().int().min(1).default(1),
  })
  .strict();

/** Records of the first format named the family `resnet-6n+2` and stored what the depth implies; they must agree. */
function upgrade(stored: Record<string, unknown>): Record<string, unknown> {
  const { blocksPerStage, widths, strides, ...rest } = stored;
  if (blocksPerStage === undefined) return rest;
  const depth = rest.depth as number;
  const implied = { blocksPerStage: (depth - 2) / 6, widths: [...CIFAR_STAGE_WIDTHS], strides: [1, 2, 2] };
  for (const [key, value] of Object.entries({ blocksPerStage, widths, strides })) {
    const expected = implied[key as keyof typeof implied];
    if (JSON.stringify(value) !== JSON.stringify(expected))
      throw new DepthfoldInputError(
        key,
        `${JSON.stringify(expected)} (ResNet-${depth})`,
        value,
        'architecture resnet-6n+2',
      );
  }
  return rest;
}

registerFamily({
  name: 'resnet-cifar',
  aliases: ['resnet-6n+2'],
  summary:
    "the paper's CIFAR ResNet-(6n+2): 3x3 stem, three stages of basic blocks (16/32/64 channels), option A or projection shortcuts",
  options,
  upgrade,
  networks: Object.fromEntries([8, 14, 20, 32, 44, 56, 110, 1202].map((depth) => [`resnet${depth}`, { depth }])),
  topology({ depth, shortcut, widthMultiplier }, input, numClasses) {
    const blocksPerStage = (depth - 2) / 6;
    const widths = CIFAR_STAGE_WIDTHS.map((w) => w * widthMultiplier);
    const b = new TopologyBuilder({ channels: input.channels, height: input.height, width: input.width });
    b.conv('stem.conv', widths[0]!, 3).batchNorm('stem.bn').relu('stem.relu');
    widths.forEach((width, stage) => {
      for (let i = 0; i < blocksPerStage; i++) {
        const name = `stage${stage + 1}.block${i}`;
        const stride = i === 0 && stage > 0 ? 2 : 1;
        const from = b.current.channels;
        b.residual(
          name,
          (f) =>
            f
              .conv(`${name}.conv1`, width, 3, stride)
              .batchNorm(`${name}.bn1`)
              .relu(`${name}.relu1`)
              .conv(`${name}.conv2`, width, 3)
              .batchNorm(`${name}.bn2`),
          (s) => {
            if (stride === 1 && from === width) return;
            if (shortcut === 'projection') {
              s.conv(`${name}.proj`, width, 1, stride).batchNorm(`${name}.proj_bn`);
              return;
            }
            if (stride !== 1) s.subsample(`${name}.shortcut.pool`, stride);
            if (width > from) s.padChannels(`${name}.shortcut.pad`, width);
          },
        );
      }
    });
    b.globalAveragePool('head.pool').dense('head', numClasses);
    const wide = widthMultiplier === 1 ? '' : `, width x${widthMultiplier}`;
    return {
      title: `ResNet-${depth} (shortcut ${shortcut}${wide})`,
      id: `resnet${depth}${widthMultiplier === 1 ? '' : `-w${widthMultiplier}`}`,
      input: { ...input },
      numClasses,
      layers: b.layers,
    };
  },
});
