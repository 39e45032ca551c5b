// What a resumed run trains with: its recorded settings, plus the few a user may change between sessions.
import { DepthfoldInputError, type TrainConfig, type TrainConfigInput } from '@depthfold/core';

/**
 * Settings a resumed run may change: how long it trains, where it computes, where the data lies and how it is read
 * (a folder run trains on its recorded file list and cached pixels wherever they are read from; --skip-bad-images
 * lets it go on without an image that can no longer be decoded, and lists it).
 */
export const RESUMABLE_SETTINGS = [
  'epochs',
  'backend',
  'workers',
  'threads',
  'data',
  'cacheDir',
  'memoryBudget',
  'decodeThreads',
  'skipBadImages',
] as const satisfies readonly (keyof TrainConfig)[];

// Settings that name the run rather than describe it.
const RUN_IDENTITY = new Set<keyof TrainConfig>(['name', 'runDir', 'resume']);

/**
 * The configuration a run resumed after `epochsDone` epochs continues with. Settings the user did not give keep the
 * run's recorded values (a bare `--resume` continues the run as it was started); a changeable setting that was given
 * replaces the record; any other given setting must equal the record, since changing it would silently make a
 * different run. Throws naming the setting, the recorded and the received value.
 */
export function resumedConfig(
  recorded: TrainConfig,
  requested: TrainConfig,
  given: TrainConfigInput,
  epochsDone: number,
): TrainConfig {
  const config: TrainConfig = { ...recorded, name: requested.name, resume: true };
  if (requested.runDir !== undefined) config.runDir = requested.runDir;
  const changeable = new Set<string>(RESUMABLE_SETTINGS);
  for (const [key, value] of Object.entries(given) as [keyof TrainConfig, unknown][]) {
    if (value === undefined || RUN_IDENTITY.has(key)) continue;
    if (changeable.has(key)) {
      (config as Record<string, unknown>)[key] = requested[key];
    } else if (requested[key] !== recorded[key]) {
      throw new DepthfoldInputError(
        key,
        `the run's recorded ${JSON.stringify(recorded[key])} (--resume keeps a run's settings; start a new --name to change it)`,
        requested[key],
        'train',
      );
    }
  }
  if (config.epochs < epochsDone) {
    throw new DepthfoldInputError('epochs', `at least the ${epochsDone} the run has trained`, config.epochs, 'train');
  }
  return config;
}
