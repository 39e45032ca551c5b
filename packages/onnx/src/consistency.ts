// Checks that the metadata written into a model describes the checkpoint whose weights go into it, so that an
// exported file can never claim an architecture, schedule or input it was not built from.
import { DepthfoldInputError, type Checkpoint, type ModelMetadata } from '@depthfold/core';

/** The graph's input name; the metadata must use it. */
export const INPUT_NAME = 'input';
/** The graph's output name; the metadata must use it. */
export const OUTPUT_NAME = 'logits';

/**
 * Throws unless `metadata` matches `checkpoint` (architecture, survival schedule, input size) and the graph about
 * to be written (`folded`, input and output names).
 */
export function checkMetadataMatches(checkpoint: Checkpoint, metadata: ModelMetadata, folded: boolean): void {
  const context = 'model metadata';
  const arch = checkpoint.info.architecture;
  if (!sameJson(metadata.architecture, arch)) {
    throw new DepthfoldInputError(
      'architecture',
      `the checkpoint's architecture ${JSON.stringify(arch)}`,
      metadata.architecture,
      context,
    );
  }
  const probs = checkpoint.info.schedule.survivalProbs;
  if (!sameJson(metadata.schedule?.survivalProbs, probs)) {
    throw new DepthfoldInputError(
      'schedule.survivalProbs',
      `the checkpoint's ${JSON.stringify(probs)}`,
      metadata.schedule?.survivalProbs,
      context,
    );
  }
  for (const key of ['height', 'width', 'channels'] as const) {
    if (metadata.input[key] !== arch.input[key]) {
      throw new DepthfoldInputError(
        `input.${key}`,
        `${arch.input[key]} (architecture.input.${key})`,
        metadata.input[key],
        context,
      );
    }
  }
  if (metadata.input.name !== INPUT_NAME)
    throw new DepthfoldInputError('input.name', JSON.stringify(INPUT_NAME), metadata.input.name, context);
  if (metadata.output.name !== OUTPUT_NAME)
    throw new DepthfoldInputError('output.name', JSON.stringify(OUTPUT_NAME), metadata.output.name, context);
  if (metadata.folded !== folded)
    throw new DepthfoldInputError('folded', `${folded} (the graph being built)`, metadata.folded, context);
}

// Deep equality of JSON values, blind to key order (the two sides may come from different code paths).
function sameJson(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => sameJson(v, b[i]));
  }
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
    const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
    return (
      ka.length === kb.length &&
      ka.every((k) => sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
    );
  }
  return a === b;
}
