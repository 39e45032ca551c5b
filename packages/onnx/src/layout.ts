// Every transpose between TensorFlow.js layouts (NHWC activations, HWIO conv filters, dense [in, out]) and ONNX
// layouts (NCHW activations, OIHW conv weights, Gemm operands) lives here, so no other module indexes by layout.
import type { NamedTensor } from '@depthfold/core';

/**
 * Whether the exported Gemm transposes its B operand. 0: B is the dense kernel exactly as tfjs stores it,
 * [in, out], so `logits = x @ B + C` needs no transpose of the weights at all (PyTorch exports [out, in] with
 * transB = 1 instead; both are valid ONNX).
 */
export const GEMM_TRANS_B = 0;

/** Conv filter [kh, kw, in, out] (tfjs HWIO) as ONNX Conv weight [out, in, kh, kw] (OIHW). */
export function hwioToOihw(filter: NamedTensor): NamedTensor {
  if (filter.shape.length !== 4)
    throw new Error(`hwioToOihw: expected a rank-4 HWIO filter, got [${filter.shape.join(', ')}]`);
  const [kh, kw, cin, cout] = filter.shape as [number, number, number, number];
  const out = new Float32Array(filter.data.length);
  for (let h = 0; h < kh; h++) {
    for (let w = 0; w < kw; w++) {
      for (let i = 0; i < cin; i++) {
        const from = ((h * kw + w) * cin + i) * cout;
        for (let o = 0; o < cout; o++) out[((o * cin + i) * kh + h) * kw + w] = filter.data[from + o]!;
      }
    }
  }
  return { shape: [cout, cin, kh, kw], data: out };
}

/** Dense kernel [in, out] as the Gemm B operand for {@link GEMM_TRANS_B} = 0: the same tensor, copied. */
export function denseToGemm(kernel: NamedTensor): NamedTensor {
  if (kernel.shape.length !== 2)
    throw new Error(`denseToGemm: expected a rank-2 [in, out] kernel, got [${kernel.shape.join(', ')}]`);
  return { shape: [...kernel.shape], data: new Float32Array(kernel.data) };
}

/** Activations [n, h, w, c] (tfjs NHWC) as [n, c, h, w] (ONNX NCHW). */
export function nhwcToNchw(x: NamedTensor): NamedTensor {
  if (x.shape.length !== 4) throw new Error(`nhwcToNchw: expected a rank-4 NHWC tensor, got [${x.shape.join(', ')}]`);
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const out = new Float32Array(x.data.length);
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < h; y++) {
      for (let z = 0; z < w; z++) {
        const from = ((b * h + y) * w + z) * c;
        for (let k = 0; k < c; k++) out[((b * c + k) * h + y) * w + z] = x.data[from + k]!;
      }
    }
  }
  return { shape: [n, c, h, w], data: out };
}
