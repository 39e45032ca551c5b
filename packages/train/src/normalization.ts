// The normalisation a new run trains with, x = (pixel / 255 - mean[c]) / std[c]: --mean and --std where given, the
// training split's per-channel statistics where not. (A resumed run keeps its checkpoint's.)
import { DepthfoldInputError, NORMALIZATION_BOUNDS, type Normalization, type TrainConfig } from '@depthfold/core';
import type { ChannelStats } from './data/index.js';

/**
 * The normalisation values given by `--mean` and `--std` (each undefined where not given); the training split's
 * statistics fill the rest once the data is loaded.
 * @throws DepthfoldInputError naming `mean` or `std` when a value count is not the channel count, or a value lies
 * outside what a model may record (NORMALIZATION_BOUNDS).
 */
export function givenNormalization(config: TrainConfig, channels: number): Partial<Normalization> {
  const given = (key: 'mean' | 'std', min: number, max: number): number[] | undefined => {
    const text = config[key];
    if (text === undefined) return undefined;
    const values = text.split(',').map(Number);
    if (values.length !== channels || values.some((v) => !(v >= min && v <= max)))
      throw new DepthfoldInputError(
        key,
        `${channels} number${channels > 1 ? 's' : ''} in [${min}, ${max}], one per channel`,
        text,
        'train',
      );
    return values;
  };
  const { meanMin, meanMax, stdMin, stdMax } = NORMALIZATION_BOUNDS;
  const mean = given('mean', meanMin, meanMax);
  const std = given('std', stdMin, stdMax);
  return { ...(mean ? { mean } : {}), ...(std ? { std } : {}) };
}

/** `given` completed by the training split's statistics (computed only where a value is missing). */
export async function runNormalization(
  given: Partial<Normalization>,
  computed: () => Promise<ChannelStats>,
): Promise<Normalization> {
  if (given.mean && given.std) return { mean: given.mean, std: given.std };
  const stats = await computed();
  return { mean: given.mean ?? stats.mean, std: given.std ?? stats.std };
}
