// The precision of the backend's convolutions and matmuls: fp32, or bf16 mixed precision (bf16 inputs, fp32
// accumulation and outputs) on CPUs whose oneDNN computes bf16 dot products in hardware. Batch norm, the loss, the
// optimizer and the master weights stay fp32 either way, as in PyTorch's CPU autocast; tfjs sees float32 tensors.
import { loadBinding, type PrecisionCode } from './native.js';

/** The precisions the backend's convolutions and matmuls can run in. */
export const ONEDNN_PRECISIONS = ['fp32', 'bf16'] as const;

/** `fp32`, or `bf16`: bf16 inputs with fp32 accumulation and fp32 outputs. */
export type OnednnPrecision = (typeof ONEDNN_PRECISIONS)[number];

/** The native entry points' code of each precision (native/precision.h). */
export const PRECISION_CODE: Readonly<Record<OnednnPrecision, PrecisionCode>> = { fp32: 0, bf16: 1 };

/**
 * oneDNN's instruction sets that compute bf16 dot products in hardware (AVX512-BF16's vdpbf16ps, AMX-BF16's tiles).
 * oneDNN 2.6 also runs bf16 on plain avx512_core, by emulation, slower than fp32: that is refused.
 */
const BF16_ISAS: readonly string[] = ['avx512_core_bf16', 'avx512_core_amx'];

/** Whether bf16 can run here: from the instruction set oneDNN runs (which `ONEDNN_MAX_CPU_ISA` may cap). */
export type OnednnBf16Support = { supported: true; isa: string } | { supported: false; isa: string; reason: string };

/**
 * Whether the backend can run bf16 here, from the instruction set that oneDNN runs: its effective ISA, which
 * oneDNN reads at startup and caps by `ONEDNN_MAX_CPU_ISA` (or the older `DNNL_MAX_CPU_ISA`). Where the addon is
 * missing, the reason says why.
 */
export function onednnBf16Support(): OnednnBf16Support {
  const loaded = loadBinding();
  if (!('binding' in loaded)) return { supported: false, isa: 'none', reason: loaded.reason };
  const { isa } = loaded.binding.info();
  if (BF16_ISAS.includes(isa)) return { supported: true, isa };
  const capped = ['ONEDNN_MAX_CPU_ISA', 'DNNL_MAX_CPU_ISA'].find((name) => process.env[name]);
  const cap = capped ? ` under ${capped}=${process.env[capped]}` : '';
  return {
    supported: false,
    isa,
    reason:
      `oneDNN runs ${isa} here${cap}, which has no bf16 dot products ` +
      `(AVX512-BF16 or AMX-BF16: needs ${BF16_ISAS.join(' or ')})`,
  };
}

let current: OnednnPrecision = 'fp32';

/** The precision in force. */
export function onednnPrecision(): OnednnPrecision {
  return current;
}

/**
 * Sets the precision of the backend's convolutions (forward and both gradients) and matmuls from the next kernel
 * on. Throws with the reason where bf16 is asked for and oneDNN here has no bf16 dot products
 * ({@link onednnBf16Support}), and on a name that is no precision.
 *
 * bf16 needs no loss scaling: it keeps fp32's 8-bit exponent (it is fp32 with 16 mantissa bits dropped), so small
 * gradients do not underflow as they do in fp16, whose 5-bit exponent ends at 6e-8. Only the mantissa is shorter,
 * which the fp32 accumulation and the fp32 master weights absorb.
 */
export function setOnednnPrecision(precision: OnednnPrecision): void {
  if (!ONEDNN_PRECISIONS.includes(precision)) {
    throw new Error(
      `onednn: precision: expected one of ${ONEDNN_PRECISIONS.join(', ')}, received ${JSON.stringify(precision)}`,
    );
  }
  if (precision === 'bf16') {
    const support = onednnBf16Support();
    if (!support.supported) throw new Error(`onednn: bf16 is not available: ${support.reason}`);
  }
  current = precision;
}

/**
 * Sets the precision without asking oneDNN whether bf16 has hardware support: for tests of the per-shape fallback
 * to fp32 (atPrecision in src/kernels/native-kernel.ts), which is otherwise out of reach on a CPU with bf16. Not exported from
 * the package.
 */
export function forcePrecisionForTests(precision: OnednnPrecision): void {
  current = precision;
}
