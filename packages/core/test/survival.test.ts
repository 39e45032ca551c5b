import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectedDepth, survivalProbs, DepthfoldInputError } from '../src/index.js';

test('linear decay: p_l = 1 - (l/L)(1 - p_L), from just under 1 down to p_L', () => {
  const p = survivalProbs('linear', 54, 0.5);
  assert.equal(p.length, 54);
  assert.ok(Math.abs(p[0]! - (1 - 0.5 / 54)) < 1e-12);
  assert.ok(Math.abs(p[53]! - 0.5) < 1e-12);
  for (let l = 1; l <= 54; l++) assert.ok(Math.abs(p[l - 1]! - (1 - (l / 54) * 0.5)) < 1e-12);
  // The paper: ResNet-110 (L = 54 blocks) with p_L = 0.5 has E[L'] of about 40 blocks (3L/4 + 1/4).
  assert.ok(Math.abs(expectedDepth(p) - (54 - (0.5 * 55) / 2)) < 1e-9);
  assert.ok(Math.abs(expectedDepth(p) - 40.25) < 1e-9);
});

test('uniform and none', () => {
  assert.deepEqual(survivalProbs('uniform', 3, 0.8), [0.8, 0.8, 0.8]);
  assert.deepEqual(survivalProbs('none', 4, 0.5), [1, 1, 1, 1]);
  assert.equal(expectedDepth(survivalProbs('none', 9, 0.5)), 9);
  assert.ok(Math.abs(expectedDepth(survivalProbs('uniform', 9, 0.5)) - 4.5) < 1e-12);
});

test('bad survival arguments name the field', () => {
  assert.throws(
    () => survivalProbs('linear', 9, 0),
    (e: unknown) => e instanceof DepthfoldInputError && /survivalProb.*\(0, 1\].*0/.test(e.message),
  );
  assert.throws(() => survivalProbs('linear', 9, 1.5), DepthfoldInputError);
  assert.throws(() => survivalProbs('linear', 0, 0.5), /numBlocks/);
  assert.throws(() => survivalProbs('sometimes' as 'linear', 3, 0.5), /survivalRule.*linear, uniform, none.*sometimes/);
});
