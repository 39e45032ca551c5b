// The Node entry's session factory: a session of onnxruntime-node on the first device of a requested one that starts,
// the way `load` makes its own, for code that runs sessions itself (@depthfold/serve's worker threads).
import type { SessionOptions } from '../common/backend.js';
import { type Device, resolveDevice } from '../common/device.js';
import { describeType, InferInputError } from '../common/errors.js';
import { checkSessionOptions, deviceErrorOf, type StartedSession, startFirstSession } from '../common/session-start.js';
import { ortNodeBackend } from './ort-backend.js';

/**
 * Creates an onnxruntime-node session of a model, trying the providers of `device` in the order of the device table
 * (`auto`: cuda, webgpu, cpu) and keeping the first that starts. Unlike `load`, it neither reads metadata nor checks
 * the model: the bytes go to ONNX Runtime as they are.
 * @param bytes - The .onnx file's bytes.
 * @param device - As `load` takes it; default `cpu`.
 * @param options - ORT intra-op `threads` (0 or absent: ORT's default) and `graphOptimizationLevel`.
 * @returns The session, its device and provider, and each device tried before it with why it failed (a cuda that
 * cannot start says how to get the CUDA provider).
 * @throws InferInputError for bytes that are not a Uint8Array, an unknown device or a bad option; InferDeviceError
 * when no device starts a session (its `failures` say why each did not, `available` names the others).
 */
export async function createSession(
  bytes: Uint8Array,
  device?: Device,
  options: SessionOptions = {},
): Promise<StartedSession> {
  if (!(bytes instanceof Uint8Array)) {
    throw new InferInputError('bytes', 'the bytes of an .onnx file (Uint8Array)', describeType(bytes));
  }
  const resolved = resolveDevice(device, ortNodeBackend.platform);
  const { started, fallbacks } = await startFirstSession(
    ortNodeBackend,
    bytes,
    resolved.candidates,
    checkSessionOptions(options),
  );
  if (started) return started;
  throw deviceErrorOf(ortNodeBackend, resolved.device, fallbacks);
}
