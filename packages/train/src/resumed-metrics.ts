// The metrics a resumed run starts from. The run directory's format and file I/O are @depthfold/core's (run-format,
// /node's run-dir); what to keep of them when a run resumes is the trainer's policy, here.
import {
  DepthfoldInputError,
  metricsLineSchema,
  parseWith,
  type CheckpointInfo,
  type MetricsLine,
} from '@depthfold/core';
import { readMetrics } from '@depthfold/core/node';

/**
 * The metrics of a run resumed from a checkpoint: the lines of `metrics.jsonl` up to the checkpoint's epoch, and, if
 * the line of that epoch is missing (a kill came between the checkpoint's rename, which commits an epoch, and the
 * metrics file's), the line the checkpoint carries, without timings.
 *
 * @param checkpointPath - for the error message.
 * @throws {@link DepthfoldInputError} if the checkpoint's line is of another epoch than the checkpoint, or is not a
 *   metrics line.
 */
export async function resumedMetrics(
  runDir: string,
  info: CheckpointInfo,
  checkpointPath: string,
): Promise<MetricsLine[]> {
  const lines = await readMetrics(runDir, info.epoch);
  const carried = info.epochMetrics;
  if (info.epoch === 0 || lines.at(-1)?.epoch === info.epoch || carried === undefined) return lines;
  if (carried.epoch !== info.epoch) {
    throw new DepthfoldInputError(
      `${checkpointPath} epochMetrics.epoch`,
      `the checkpoint's epoch, ${info.epoch}`,
      carried.epoch,
      'train',
    );
  }
  return [...lines, parseWith(metricsLineSchema, carried, `${checkpointPath} epochMetrics`)];
}
