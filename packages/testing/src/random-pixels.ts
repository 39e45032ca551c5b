// Seeded raw pixels: cheap, reproducible images for tests that need many of them.

/**
 * `length` pseudo-random raw pixel values (0..255) from xorshift32; the same seed gives the same pixels.
 * @param seed - Any integer; 0 (which xorshift cannot leave) is taken as 1.
 */
export function randomPixels(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < out.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = (s >>> 0) % 256;
  }
  return out;
}
