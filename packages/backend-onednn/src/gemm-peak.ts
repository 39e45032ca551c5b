// The rate of one large square GEMM through the backend's own MatMul entry point, fp32 or bf16: the ceiling that
// a benchmark reports a training step's FLOP/s against, measured in the same run, on the same threads.
import { loadBinding } from './native.js';
import { type OnednnPrecision, onednnBf16Support, PRECISION_CODE } from './precision.js';

/**
 * The FLOP/s of a `size` x `size` x `size` matmul (2 size^3 FLOP) in `precision`: the median of `repeats` timed
 * runs after one untimed run, on oneDNN's current threads (see registerOnednnBackend). In bf16 the time includes
 * the conversion of both operands from f32, as every bf16 matmul of the backend pays it (2 size^2 elements beside
 * 2 size^3 FLOP: under 1% at 1024). Throws where the addon is missing or bf16 cannot run here.
 */
export function gemmPeak(precision: OnednnPrecision, size = 1024, repeats = 5): number {
  const loaded = loadBinding();
  if (!('binding' in loaded)) throw new Error(loaded.reason);
  if (!Number.isInteger(size) || size < 1 || !Number.isInteger(repeats) || repeats < 1) {
    throw new Error(`gemmPeak: expected a positive integer size and repeats, received ${size} and ${repeats}`);
  }
  if (precision === 'bf16') {
    const support = onednnBf16Support();
    if (!support.supported) throw new Error(`gemmPeak: bf16 is not available: ${support.reason}`);
  }
  const { binding } = loaded;
  const a = Float32Array.from({ length: size * size }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
  const b = Float32Array.from({ length: size * size }, (_, i) => ((i * 104729) % 1000) / 1000 - 0.5);
  const y = new Float32Array(size * size);
  const run = () => binding.matMul([1, size, size, size], false, false, a, b, y, PRECISION_CODE[precision]);
  if (run() !== PRECISION_CODE[precision]) throw new Error(`gemmPeak: oneDNN ran the ${precision} GEMM in fp32`);
  const seconds: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = process.hrtime.bigint();
    run();
    seconds.push(Number(process.hrtime.bigint() - start) / 1e9);
  }
  seconds.sort((p, q) => p - q);
  return (2 * size ** 3) / seconds[Math.floor(repeats / 2)]!;
}
