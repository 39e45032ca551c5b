// Seeded pseudo-random numbers: every random choice of a run (gates, shuffles, augmentation) comes from here,
// so a run is reproducible from its seed and resumable from a saved state.

/** A seeded generator of uniform numbers in [0, 1) whose state can be saved and restored. */
export interface Rng {
  /** The next uniform number in [0, 1). */
  next(): number;
  /** The current 32-bit state; `createRng(seed).restore(state)` continues the same sequence. */
  state(): number;
  /** Continues from a state returned by `state()`. */
  restore(state: number): void;
}

/**
 * mulberry32: a small, fast 32-bit generator, good enough for shuffles and Bernoulli gates (not for cryptography).
 */
export function createRng(seed: number): Rng {
  let s = seed >>> 0;
  return {
    next() {
      s = (s + 0x6d2b79f5) >>> 0;
      let t = s;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
    state: () => s,
    restore(state: number) {
      s = state >>> 0;
    },
  };
}

/** A seed derived from a base seed and a stream name, so independent streams (gates, data) do not correlate. */
export function deriveSeed(seed: number, stream: string): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (let i = 0; i < stream.length; i++) h = Math.imul(h ^ stream.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}
