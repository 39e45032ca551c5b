// How many epochs each part of a run trained towards. The learning-rate schedule spreads over a run's epoch count,
// so a run resumed with a new --epochs follows a different curve from that epoch on than one started with it.
import { z } from 'zod';

/** The parts of a run, first epoch first: from `fromEpoch` (0-based) on, the schedule spread over `epochs` epochs. */
export const epochPlanSchema = z
  .array(z.object({ fromEpoch: z.number().int().min(0), epochs: z.number().int().min(1) }))
  .min(1);

/** A run's epoch plan. */
export type EpochPlan = z.output<typeof epochPlanSchema>;

/** The plan of a run that has trained towards `epochs` from its first epoch. */
export function singleEpochPlan(epochs: number): EpochPlan {
  return [{ fromEpoch: 0, epochs }];
}

/**
 * The plan of a run with plan `plan`, resumed after `epochsDone` epochs to train towards `epochs`: unchanged when the
 * count is, else a new part from `epochsDone`.
 */
export function continuedEpochPlan(plan: EpochPlan, epochsDone: number, epochs: number): EpochPlan {
  const last = plan[plan.length - 1]!;
  if (last.epochs === epochs) return plan;
  // A change that never trained an epoch (its session stopped before a checkpoint) is replaced, not kept.
  const kept = last.fromEpoch === epochsDone ? plan.slice(0, -1) : plan;
  return [...kept, { fromEpoch: epochsDone, epochs }];
}
