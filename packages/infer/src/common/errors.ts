// The errors of the classifier: bad input from the caller (names the field, what was expected and received) and a
// device that could not start (names every provider tried, why each failed, and what else the platform offers).
import { DepthfoldInputError } from '@depthfold/core';
import type { Device, ExecutionProvider } from './device.js';

/** Bad input to `load`, `classify` or `logits`; a {@link DepthfoldInputError}, so one catch covers every package. */
export class InferInputError extends DepthfoldInputError {
  constructor(field: string, expected: string, received: unknown, context?: string) {
    super(field, expected, received, context);
    this.name = 'InferInputError';
  }
}

/** A device that was tried while loading a model, and why it did not start. */
export interface DeviceFallback {
  device: Exclude<Device, 'auto'>;
  provider: ExecutionProvider;
  reason: string;
}

/** No device of those requested could create a session for the model. */
export class InferDeviceError extends Error {
  /** The device the caller asked for. */
  readonly device: Device;
  /** Every device tried, in order, with the reason it failed. */
  readonly failures: readonly DeviceFallback[];
  /** The other devices this platform's runtime build supports; not tried, so not known to work. */
  readonly available: readonly Device[];

  constructor(device: Device, failures: readonly DeviceFallback[], available: readonly Device[]) {
    const tried = failures.map((f) => `${f.device} (provider ${f.provider}): ${f.reason}`).join('; ');
    const others = available.length > 0 ? available.map((d) => JSON.stringify(d)).join(', ') : 'none';
    super(`device ${JSON.stringify(device)} could not start a session. Tried ${tried}. Other devices available here (not tried): ${others}`);
    this.name = 'InferDeviceError';
    this.device = device;
    this.failures = failures;
    this.available = available;
  }
}

/** The message of a thrown value, on one line. */
export function reasonOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\s+/g, ' ').trim();
}

/** A short description of a value's type for messages, e.g. `Int32Array(784)` or `array(3)`. */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (value instanceof DataView) return `DataView(${value.byteLength} bytes)`;
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${(value as unknown as ArrayLike<unknown>).length})`;
  if (Array.isArray(value)) return `array(${value.length})`;
  return typeof value;
}
