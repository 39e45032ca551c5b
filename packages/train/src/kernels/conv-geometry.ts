// The geometry of a convolution along one spatial axis, checked once for the forward op and its gradients.

/** The geometry of one spatial axis of a convolution. */
export interface Axis {
  /** Filter size along the axis. */
  readonly kernel: number;
  /** Output size: floor((size + 2*pad - kernel) / stride) + 1. */
  readonly out: number;
  /** Trailing input positions that no window reaches: their gradient is zero. */
  readonly rest: number;
}

/** The geometry of one axis; throws for a pad outside [0, k-1] or an input smaller than the kernel. */
export function axis(size: number, kernel: number, stride: number, pad: number): Axis {
  // The dx formula pads dy by k-1-p, which must not be negative.
  if (!Number.isInteger(pad) || pad < 0 || pad > kernel - 1) {
    throw new Error(`conv2d: pad ${pad} must lie in [0, ${kernel - 1}] for a kernel of size ${kernel}`);
  }
  const span = size + 2 * pad - kernel;
  if (span < 0) {
    throw new Error(`conv2d: input size ${size} with pad ${pad} is smaller than the kernel ${kernel}`);
  }
  return { kernel, out: Math.floor(span / stride) + 1, rest: span % stride };
}
