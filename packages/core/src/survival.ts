// Survival probabilities p_l of the residual blocks (Huang et al. 2016, Sec. 3).
// Convention: like the paper, a surviving block is NOT rescaled during training; at test time the branch is
// multiplied by p_l, H_l = ReLU(p_l * f_l(H_{l-1}) + id(H_{l-1})), and export folds p_l into the weights.
// (timm's drop_path scales by 1/p_l while training instead, which leaves nothing to fold.)
import { DepthfoldInputError } from './errors.js';

/** linear: p_l = 1 - (l/L)(1 - p_L); uniform: p_l = p_L; none: p_l = 1 (constant depth). */
export type SurvivalRule = 'linear' | 'uniform' | 'none';

/** The survival rules, for validation and help text. */
export const SURVIVAL_RULES: readonly SurvivalRule[] = ['linear', 'uniform', 'none'];

/** p_l for l = 1..numBlocks under `rule`, with p_L = `survivalProbLast` (ignored by `none`). */
export function survivalProbs(rule: SurvivalRule, numBlocks: number, survivalProbLast: number): number[] {
  if (!Number.isInteger(numBlocks) || numBlocks < 1) {
    throw new DepthfoldInputError('numBlocks', 'a positive integer', numBlocks);
  }
  if (!(survivalProbLast > 0 && survivalProbLast <= 1)) {
    throw new DepthfoldInputError('survivalProb', 'a number in (0, 1]', survivalProbLast);
  }
  const probs: number[] = [];
  for (let l = 1; l <= numBlocks; l++) {
    if (rule === 'linear') probs.push(1 - (l / numBlocks) * (1 - survivalProbLast));
    else if (rule === 'uniform') probs.push(survivalProbLast);
    else if (rule === 'none') probs.push(1);
    else throw new DepthfoldInputError('survivalRule', `one of ${SURVIVAL_RULES.join(', ')}`, rule);
  }
  return probs;
}

/** Expected number of residual blocks that run in a training step: E[L'] = sum of p_l. */
export function expectedDepth(probs: readonly number[]): number {
  return probs.reduce((sum, p) => sum + p, 0);
}
