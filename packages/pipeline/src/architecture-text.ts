// A model card's account of a network, read off its topology: the stem, the residual blocks (branch, widths, sizes,
// shortcuts) and the head. It knows layers, not families, so a new family's cards describe it too.
import { type Layer, residualLayers, type Topology } from '@depthfold/core';

/** One layer in a few words: `conv 3x3/2 64`, `batch norm`, `max pool 3x3/2`. */
function layerText(layer: Layer): string {
  switch (layer.op) {
    case 'conv':
      return `conv ${layer.kernel}x${layer.kernel}${layer.stride === 1 ? '' : `/${layer.stride}`} ${layer.output.channels}`;
    case 'batch-norm':
      return 'BN';
    case 'relu':
      return 'ReLU';
    case 'max-pool':
      return `max pool ${layer.kernel}x${layer.kernel}/${layer.stride}`;
    case 'subsample':
      return `subsample /${layer.stride}`;
    case 'pad-channels':
      return `zero channels to ${layer.output.channels}`;
    case 'global-average-pool':
      return 'global average pool';
    case 'dense':
      return `dense ${layer.output.channels}`;
    case 'residual':
      return 'residual block';
  }
}

const listText = (layers: readonly Layer[]): string => layers.map(layerText).join(', ');

/** The distinct values of `values`, in the order they first appear. */
const distinct = <T>(values: readonly T[]): T[] => [...new Set(values)];

/**
 * The network in a sentence or three: `stem conv 3x3 16, BN, ReLU; 9 residual blocks (branch conv 3x3 16, BN, ReLU,
 * conv 3x3 16, BN) of 16, 32, 64 channels at 28, 14, 7 px; shortcuts: identity (7), subsample /2, zero channels
 * (2); head global average pool, dense 10.`
 */
export function architectureText(topology: Topology): string {
  const blocks = residualLayers(topology);
  const first = topology.layers.findIndex((l) => l.op === 'residual');
  const last = topology.layers.findLastIndex((l) => l.op === 'residual');
  // Branches differ in width and stride only: one pattern of operations is told, from the first block.
  const pattern = (b: (typeof blocks)[number]) => b.branch.map((l) => l.op + ('kernel' in l ? l.kernel : '')).join();
  const patterns = distinct(blocks.map(pattern));
  const shortcuts = new Map<string, number>();
  for (const b of blocks) {
    const text = b.shortcut.length === 0 ? 'identity' : listText(b.shortcut);
    shortcuts.set(text, (shortcuts.get(text) ?? 0) + 1);
  }
  const branchText = patterns
    .map((p) => `branch ${listText(blocks.find((b) => pattern(b) === p)!.branch)}`)
    .join('; or ');
  return (
    `stem ${listText(topology.layers.slice(0, first))}; ${blocks.length} residual blocks (${branchText}) of ` +
    `${distinct(blocks.map((b) => b.output.channels)).join(', ')} channels at ${distinct(blocks.map((b) => b.output.height)).join(', ')} px; ` +
    `shortcuts: ${[...shortcuts].map(([text, n]) => `${text} (${n})`).join(', ')}; head ${listText(topology.layers.slice(last + 1))}.`
  );
}
