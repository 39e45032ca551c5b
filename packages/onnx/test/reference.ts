// Naive float64 reference implementations, written from the definitions and independent of the package's code.
import type { Checkpoint, NamedTensor } from '@depthfold/core';

/** A float64 activation map with its shape. */
export interface Activation {
  shape: number[];
  data: Float64Array;
}

/**
 * NCHW convolution with an HWIO filter (tfjs layout) and symmetric zero padding: the definition, no layout code.
 */
export function convNchwHwio(x: Activation, filter: NamedTensor, stride: number, pad: number): Activation {
  const [n, cin, h, w] = x.shape as [number, number, number, number];
  const [kh, kw, fin, cout] = filter.shape as [number, number, number, number];
  if (fin !== cin) throw new Error(`channels ${cin} vs filter ${fin}`);
  const ho = Math.floor((h + 2 * pad - kh) / stride) + 1;
  const wo = Math.floor((w + 2 * pad - kw) / stride) + 1;
  const out = new Float64Array(n * cout * ho * wo);
  for (let b = 0; b < n; b++)
    for (let o = 0; o < cout; o++)
      for (let y = 0; y < ho; y++)
        for (let z = 0; z < wo; z++) {
          let sum = 0;
          for (let i = 0; i < cin; i++)
            for (let ky = 0; ky < kh; ky++)
              for (let kx = 0; kx < kw; kx++) {
                const yy = y * stride + ky - pad;
                const zz = z * stride + kx - pad;
                if (yy < 0 || yy >= h || zz < 0 || zz >= w) continue;
                sum += x.data[((b * cin + i) * h + yy) * w + zz]! * filter.data[((ky * kw + kx) * cin + i) * cout + o]!;
              }
          out[((b * cout + o) * ho + y) * wo + z] = sum;
        }
  return { shape: [n, cout, ho, wo], data: out };
}

/** NCHW convolution with an OIHW weight (ONNX layout) and a bias. */
export function convNchwOihw(
  x: Activation,
  weight: NamedTensor,
  bias: NamedTensor,
  stride: number,
  pad: number,
): Activation {
  const [n, cin, h, w] = x.shape as [number, number, number, number];
  const [cout, fin, kh, kw] = weight.shape as [number, number, number, number];
  if (fin !== cin) throw new Error(`channels ${cin} vs weight ${fin}`);
  const ho = Math.floor((h + 2 * pad - kh) / stride) + 1;
  const wo = Math.floor((w + 2 * pad - kw) / stride) + 1;
  const out = new Float64Array(n * cout * ho * wo);
  for (let b = 0; b < n; b++)
    for (let o = 0; o < cout; o++)
      for (let y = 0; y < ho; y++)
        for (let z = 0; z < wo; z++) {
          let sum = bias.data[o]!;
          for (let i = 0; i < cin; i++)
            for (let ky = 0; ky < kh; ky++)
              for (let kx = 0; kx < kw; kx++) {
                const yy = y * stride + ky - pad;
                const zz = z * stride + kx - pad;
                if (yy < 0 || yy >= h || zz < 0 || zz >= w) continue;
                sum += x.data[((b * cin + i) * h + yy) * w + zz]! * weight.data[((o * cin + i) * kh + ky) * kw + kx]!;
              }
          out[((b * cout + o) * ho + y) * wo + z] = sum;
        }
  return { shape: [n, cout, ho, wo], data: out };
}

/** Eval-mode BN on the channel axis `axis` of `x`, times `scale`. */
export function batchNormAxis(
  x: Activation,
  params: ReadonlyMap<string, NamedTensor>,
  prefix: string,
  eps: number,
  axis: number,
  scale = 1,
): Activation {
  const get = (k: string) => params.get(`${prefix}.${k}`)!.data;
  const [gamma, beta, mean, variance] = [get('gamma'), get('beta'), get('mean'), get('variance')];
  const channels = x.shape[axis]!;
  const inner = x.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const out = new Float64Array(x.data.length);
  for (let k = 0; k < out.length; k++) {
    const c = Math.floor(k / inner) % channels;
    out[k] = scale * ((gamma[c]! * (x.data[k]! - mean[c]!)) / Math.sqrt(variance[c]! + eps) + beta[c]!);
  }
  return { shape: [...x.shape], data: out };
}

// --- The whole network, one NHWC image at a time, straight from the checkpoint tensors. ---

function convNhwc(x: Activation, filter: NamedTensor, stride: number, pad: number): Activation {
  const [h, w, cin] = x.shape as [number, number, number];
  const [kh, kw, , cout] = filter.shape as [number, number, number, number];
  const ho = Math.floor((h + 2 * pad - kh) / stride) + 1;
  const wo = Math.floor((w + 2 * pad - kw) / stride) + 1;
  const out = new Float64Array(ho * wo * cout);
  for (let y = 0; y < ho; y++)
    for (let z = 0; z < wo; z++)
      for (let ky = 0; ky < kh; ky++)
        for (let kx = 0; kx < kw; kx++) {
          const yy = y * stride + ky - pad;
          const zz = z * stride + kx - pad;
          if (yy < 0 || yy >= h || zz < 0 || zz >= w) continue;
          for (let i = 0; i < cin; i++) {
            const v = x.data[(yy * w + zz) * cin + i]!;
            const f = ((ky * kw + kx) * cin + i) * cout;
            const at = (y * wo + z) * cout;
            for (let o = 0; o < cout; o++) out[at + o]! += v * filter.data[f + o]!;
          }
        }
  return { shape: [ho, wo, cout], data: out };
}

function relu(x: Activation): Activation {
  return { shape: x.shape, data: x.data.map((v) => Math.max(0, v)) };
}

function add(a: Activation, b: Activation): Activation {
  if (a.shape.join() !== b.shape.join()) throw new Error(`add: [${a.shape}] vs [${b.shape}]`);
  return { shape: a.shape, data: a.data.map((v, i) => v + b.data[i]!) };
}

// Option A: x[::s, ::s, :] followed by zero channels appended after the existing ones.
function optionA(x: Activation, stride: number, cout: number): Activation {
  const [h, w, cin] = x.shape as [number, number, number];
  const ho = Math.floor((h - 1) / stride) + 1;
  const wo = Math.floor((w - 1) / stride) + 1;
  const out = new Float64Array(ho * wo * cout);
  for (let y = 0; y < ho; y++)
    for (let z = 0; z < wo; z++)
      for (let c = 0; c < cin; c++) out[(y * wo + z) * cout + c] = x.data[(y * stride * w + z * stride) * cin + c]!;
  return { shape: [ho, wo, cout], data: out };
}

/** Logits of one NHWC image under H_l = ReLU(p_l * f_l(H_{l-1}) + shortcut(H_{l-1})), from checkpoint tensors. */
export function referenceLogits(checkpoint: Checkpoint, image: Float32Array): Float64Array {
  const arch = checkpoint.info.architecture;
  const probs = checkpoint.info.schedule.survivalProbs;
  const eps = arch.batchNormEpsilon;
  const p = checkpoint.params;
  const param = (name: string) => p.get(name)!;
  const bn = (x: Activation, prefix: string, scale = 1) => batchNormAxis(x, p, prefix, eps, 2, scale);
  let x: Activation = {
    shape: [arch.input.height, arch.input.width, arch.input.channels],
    data: Float64Array.from(image),
  };
  // The paper's CIFAR ResNet-(6n+2), written out by hand from its definition (not from the topology under test).
  const depth = arch.depth as number;
  const widths = [16, 32, 64].map((w) => w * ((arch.widthMultiplier as number | undefined) ?? 1));
  x = relu(bn(convNhwc(x, param('stem.conv'), 1, 1), 'stem.bn'));
  let cin = widths[0]!;
  let l = 0;
  widths.forEach((width, stage) => {
    for (let b = 0; b < (depth - 2) / 6; b++) {
      const name = `stage${stage + 1}.block${b}`;
      const stride = b === 0 && stage > 0 ? 2 : 1;
      const branch = bn(
        convNhwc(relu(bn(convNhwc(x, param(`${name}.conv1`), stride, 1), `${name}.bn1`)), param(`${name}.conv2`), 1, 1),
        `${name}.bn2`,
        probs[l]!,
      );
      let shortcut = x;
      if (stride !== 1 || cin !== width) {
        shortcut =
          arch.shortcut === 'A'
            ? optionA(x, stride, width)
            : bn(convNhwc(x, param(`${name}.proj`), stride, 0), `${name}.proj_bn`);
      }
      x = relu(add(branch, shortcut));
      cin = width;
      l++;
    }
  });
  const [h, w, c] = x.shape as [number, number, number];
  const features = new Float64Array(c);
  for (let k = 0; k < h * w * c; k++) features[k % c]! += x.data[k]! / (h * w);
  const weight = param('head.weight');
  const bias = param('head.bias');
  const classes = bias.shape[0]!;
  const logits = new Float64Array(classes);
  for (let j = 0; j < classes; j++) {
    let sum = bias.data[j]!;
    for (let i = 0; i < c; i++) sum += features[i]! * weight.data[i * classes + j]!;
    logits[j] = sum;
  }
  return logits;
}

/** Largest |a[i] - b[i]|. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths ${a.length} vs ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}
