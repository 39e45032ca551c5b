// Logits to classifications: softmax over all classes, then the k most probable, most probable first.
import type { Prediction } from './classifier.js';

/** Softmax of one image's logits, shifted by the maximum so that large logits do not overflow. */
export function softmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  const out = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    out[i] = Math.exp(logits[i]! - max);
    sum += out[i]!;
  }
  for (let i = 0; i < out.length; i++) out[i] = out[i]! / sum;
  return out;
}

/** The `k` most probable classes; ties keep the lower class index first, so results are deterministic. */
export function topK(probabilities: ArrayLike<number>, labels: readonly string[], k: number): Prediction[] {
  if (labels.length !== probabilities.length) {
    throw new RangeError(`topK: ${labels.length} labels for ${probabilities.length} probabilities`);
  }
  const order = Array.from({ length: probabilities.length }, (_, i) => i);
  order.sort((a, b) => probabilities[b]! - probabilities[a]! || a - b);
  return order.slice(0, k).map((index) => ({ label: labels[index]!, index, probability: probabilities[index]! }));
}
