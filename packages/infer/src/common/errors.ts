// The errors of the classifier: bad input from the caller (names the field, what was expected and received) and a
// device that could not start (names every provider tried, why each failed, and what else the platform offers).
import { DepthfoldInputError } from '@depthfold/core';
import type { ImageDecodeFailure } from '@depthfold/images';
import type { Device, ExecutionProvider } from './device.js';

/** Bad input to `load`, `classify` or `logits`; a {@link DepthfoldInputError}, so one catch covers every package. */
export class InferInputError extends DepthfoldInputError {
  constructor(field: string, expected: string, received: unknown, context?: string) {
    super(field, expected, received, context);
    this.name = 'InferInputError';
  }
}

/**
 * An image of a batch that cannot be decoded or read: corrupt, truncated, empty, not an image, unreadable, too large
 * (a decompression bomb, refused from its header). An {@link InferInputError} whose message is one line:
 * `images[<index>] (<file>): <reason>`, e.g. `images[2] (shoes/0042.jpg): corrupt or truncated JPEG: ...`.
 */
export class InferImageError extends InferInputError {
  /** The image's position in the batch (0 for a single image). */
  readonly index: number;
  /** The path, the file's name (a `File`, an encoded image's `name`), or undefined for unnamed bytes. */
  readonly file: string | undefined;
  /** Why, in one line. */
  readonly reason: string;
  /** The kind of failure. */
  readonly failure: ImageDecodeFailure;

  constructor(index: number, file: string | undefined, reason: string, failure: ImageDecodeFailure, cause?: unknown) {
    super(`images[${index}]`, 'an image that decodes', file ?? 'image bytes');
    this.name = 'InferImageError';
    this.message = `images[${index}]${file === undefined ? '' : ` (${file})`}: ${reason}`;
    this.index = index;
    this.file = file;
    this.reason = reason;
    this.failure = failure;
    if (cause !== undefined) this.cause = cause;
  }
}

/**
 * A model that is at fault rather than the caller's images or the device: bytes that are not valid ONNX (ONNX
 * Runtime cannot parse or load them on any device), metadata that disagrees with the graph, or an output that is not
 * finite. The message starts with `model <file>`; `detail`, where given, is appended whole (ONNX Runtime's reason
 * would not survive the shortening of `received`).
 */
export class InferModelError extends InferInputError {
  /** The path, URL or `(model bytes)`. */
  readonly source: string;

  constructor(source: string, field: string, expected: string, received: unknown, detail?: string) {
    super(field, expected, received, `model ${source}`);
    this.name = 'InferModelError';
    this.source = source;
    if (detail !== undefined) this.message += ` (${detail})`;
  }
}

/**
 * A model whose graph or weights do not hash to the digest its metadata stores (changed, truncated or corrupted
 * since export), or that stores none. `load(model, { verifyIntegrity: false })` loads a model edited on purpose.
 */
export class InferIntegrityError extends InferModelError {
  constructor(source: string, field: string, expected: string, received: unknown) {
    super(source, field, expected, received, 'to load a model changed on purpose, pass { verifyIntegrity: false }');
    this.name = 'InferIntegrityError';
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
    super(
      `device ${JSON.stringify(device)} could not start a session. Tried ${tried}. Other devices available here (not tried): ${others}`,
    );
    this.name = 'InferDeviceError';
    this.device = device;
    this.failures = failures;
    this.available = available;
  }
}

/**
 * Thrown by a backend when a provider cannot start before ONNX Runtime has read the model (no WebGPU adapter, a
 * runtime build that did not download), so that `load` never takes the failure for a fault of the model.
 */
export class ProviderUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProviderUnavailableError';
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
  // A class instance by its class (a Blob where Node takes none), a plain object as `object`.
  const proto = (typeof value === 'object' ? Object.getPrototypeOf(value) : null) as {
    constructor?: { name?: unknown };
  } | null;
  const name = proto?.constructor?.name;
  return typeof name === 'string' && name !== 'Object' && name !== '' ? name : typeof value;
}
