// Starting a session on the first device of an ordered list that can run it, recording why each one before it could
// not; and the error that names the devices left when none could. `load` and `createSession` (the Node entry's
// factory, which @depthfold/serve's worker threads use) both go through here, so the two cannot differ.
import type { InferenceBackend, ModelSession, SessionOptions } from './backend.js';
import {
  type ConcreteDevice,
  DEVICE_TABLE,
  type Device,
  type DeviceCandidate,
  type ExecutionProvider,
  platformDevices,
} from './device.js';
import { type DeviceFallback, InferDeviceError, InferInputError, reasonOf } from './errors.js';

/** A session and the device and provider it started on. */
export interface StartedSession {
  readonly session: ModelSession;
  readonly device: ConcreteDevice;
  readonly provider: ExecutionProvider;
  /** The devices tried before `device`, in order, with why each failed; empty when the first worked. */
  readonly fallbacks: readonly DeviceFallback[];
}

/** What trying an ordered list of devices gave: a session, or none and every failure. */
export interface SessionAttempts {
  /** The session on the first candidate that started one; absent when none did. */
  readonly started?: StartedSession;
  /** Each candidate that failed, in order, with its reason (every candidate when none started). */
  readonly fallbacks: readonly DeviceFallback[];
  /** What each failed provider threw, for a caller that tells a missing provider from a faulty model. */
  readonly errors: ReadonlyMap<ExecutionProvider, unknown>;
}

const OPTIMIZATION_LEVELS = ['disabled', 'basic', 'extended', 'all'] as const;

/**
 * Checks session options before any session is made.
 * @throws InferInputError naming `threads` or `graphOptimizationLevel`.
 */
export function checkSessionOptions(options: SessionOptions): SessionOptions {
  const { threads, graphOptimizationLevel, spinWait } = options;
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 0)) {
    throw new InferInputError('threads', "an integer >= 0 (0 leaves ONNX Runtime's default)", threads);
  }
  if (
    graphOptimizationLevel !== undefined &&
    !(OPTIMIZATION_LEVELS as readonly unknown[]).includes(graphOptimizationLevel)
  ) {
    throw new InferInputError(
      'graphOptimizationLevel',
      `one of ${OPTIMIZATION_LEVELS.map((l) => JSON.stringify(l)).join(', ')}`,
      graphOptimizationLevel,
    );
  }
  if (spinWait !== undefined && typeof spinWait !== 'boolean') {
    throw new InferInputError('spinWait', 'a boolean', spinWait);
  }
  return options;
}

/** Tries `candidates` in order with `backend` and stops at the first that starts a session. */
export async function startFirstSession(
  backend: Pick<InferenceBackend, 'createSession'>,
  bytes: Uint8Array,
  candidates: readonly DeviceCandidate[],
  options: SessionOptions = {},
): Promise<SessionAttempts> {
  const fallbacks: DeviceFallback[] = [];
  const errors = new Map<ExecutionProvider, unknown>();
  for (const candidate of candidates) {
    try {
      const session = await backend.createSession(bytes, candidate.provider, options);
      return { started: { session, ...candidate, fallbacks }, fallbacks, errors };
    } catch (error) {
      fallbacks.push({ ...candidate, reason: reasonOf(error) });
      errors.set(candidate.provider, error);
    }
  }
  return { fallbacks, errors };
}

/**
 * The error for a requested device that started no session: every failure, and the platform's other devices that its
 * runtime build supports. Listed by what the build supports, not by trying each: a probe would load the model once per
 * device.
 */
export function deviceErrorOf(
  backend: Pick<InferenceBackend, 'platform' | 'supportedProviders'>,
  device: Device,
  fallbacks: readonly DeviceFallback[],
): InferDeviceError {
  const supported = backend.supportedProviders();
  const { providers } = DEVICE_TABLE[backend.platform];
  const available = platformDevices(backend.platform).filter((d) => {
    if (d === device || fallbacks.some((f) => f.device === d)) return false;
    if (d === 'auto') return true;
    const provider = providers[d];
    return provider !== undefined && supported.includes(provider);
  });
  return new InferDeviceError(device, fallbacks, available);
}
