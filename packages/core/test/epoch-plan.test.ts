// A run's epoch plan: where a resume changed the count its schedule spreads over.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { continuedEpochPlan, epochPlanOf, singleEpochPlan, trainConfigSchema } from '../src/index.js';

test('a resume with the same count keeps the plan; a new count starts a part at the epochs done', () => {
  const plan = singleEpochPlan(100);
  assert.equal(continuedEpochPlan(plan, 40, 100), plan);
  assert.deepEqual(continuedEpochPlan(plan, 100, 130), [
    { fromEpoch: 0, epochs: 100 },
    { fromEpoch: 100, epochs: 130 },
  ]);
});

test('a change that trained no epoch is replaced by the next one', () => {
  const changed = continuedEpochPlan(singleEpochPlan(10), 4, 20);
  assert.deepEqual(continuedEpochPlan(changed, 4, 30), [
    { fromEpoch: 0, epochs: 10 },
    { fromEpoch: 4, epochs: 30 },
  ]);
});

test("a checkpoint without a plan (written before plans) implies its config's count throughout", () => {
  const config = trainConfigSchema.parse({ name: 'r', epochs: 7 });
  assert.deepEqual(epochPlanOf({ config }), [{ fromEpoch: 0, epochs: 7 }]);
  const recorded = [
    { fromEpoch: 0, epochs: 5 },
    { fromEpoch: 5, epochs: 7 },
  ];
  assert.equal(epochPlanOf({ config, epochPlan: recorded }), recorded);
});
