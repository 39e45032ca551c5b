// Loading: read the model's metadata, then create a session on the requested device, trying the devices of
// `auto` in order and recording why each one that failed did.
import { readModelMetadata } from '@depthfold/onnx';
import type { ModelMetadata } from '@depthfold/core';
import type { InferenceBackend, ModelSession } from './backend.js';
import { SessionClassifier } from './classifier-impl.js';
import { DEVICE_TABLE, platformDevices, resolveDevice, type DeviceCandidate } from './device.js';
import { describeType, InferDeviceError, InferInputError, reasonOf, type DeviceFallback } from './errors.js';
import type { Classifier, ClassifierInfo, LoadOptions, Pixels } from './classifier.js';
import type { RgbaImage } from './rgba-image.js';

/**
 * Loads a depthfold model with a platform's backend. The classifier takes RGBA images only where
 * `backend.rgbaImages` is set; each entry narrows the type to what its platform takes.
 * @throws InferInputError for a bad `model` or `device`; DepthfoldInputError (from `@depthfold/onnx`) for bytes
 * that are not ONNX or lack depthfold metadata; InferDeviceError when no requested device starts.
 */
export async function loadClassifier(backend: InferenceBackend, model: string | Uint8Array, options: LoadOptions = {}): Promise<Classifier<Pixels | RgbaImage>> {
  if (typeof model !== 'string' && !(model instanceof Uint8Array)) {
    throw new InferInputError('model', 'a path (string) or the bytes of an .onnx file (Uint8Array)', describeType(model));
  }
  // The device is checked before any I/O so that a typo fails at once.
  const { device, candidates } = resolveDevice(options.device, backend.platform);
  const { bytes, source } = await backend.readModel(model);
  const metadata = readModelMetadata(bytes, source);
  const fallbacks: DeviceFallback[] = [];
  for (const candidate of candidates) {
    let session: ModelSession;
    try {
      session = await backend.createSession(bytes, candidate.provider);
    } catch (error) {
      fallbacks.push({ ...candidate, reason: reasonOf(error) });
      continue;
    }
    try {
      checkSessionNames(session, metadata, source);
    } catch (error) {
      await session.release();
      throw error;
    }
    return new SessionClassifier(session, infoOf(metadata, candidate, fallbacks, session.wasmThreads), backend.rgbaImages);
  }
  // Listed by what the runtime build supports, not by trying each: a probe would load the model once per device.
  const supported = backend.supportedProviders();
  const { providers } = DEVICE_TABLE[backend.platform];
  const available = platformDevices(backend.platform).filter((d) => {
    if (d === device || fallbacks.some((f) => f.device === d)) return false;
    if (d === 'auto') return true;
    const provider = providers[d];
    return provider !== undefined && supported.includes(provider);
  });
  throw new InferDeviceError(device, fallbacks, available);
}

// The metadata names the graph's input and output; a model whose graph disagrees was edited after export.
function checkSessionNames(session: ModelSession, metadata: ModelMetadata, source: string): void {
  if (!session.inputNames.includes(metadata.input.name)) {
    throw new InferInputError('input.name', `a graph input (${session.inputNames.join(', ')})`, metadata.input.name, `${source} metadata`);
  }
  if (!session.outputNames.includes(metadata.output.name)) {
    throw new InferInputError('output.name', `a graph output (${session.outputNames.join(', ')})`, metadata.output.name, `${source} metadata`);
  }
}

// A deep-frozen copy: the normalisation and labels that classify uses cannot be changed through `info`.
function infoOf(metadata: ModelMetadata, { device, provider }: DeviceCandidate, fallbacks: DeviceFallback[], wasmThreads: number | undefined): ClassifierInfo {
  const own = deepFreeze(structuredClone(metadata));
  const { height, width, channels } = own.input;
  return deepFreeze({
    labels: own.labels,
    input: { height, width, channels },
    normalization: own.normalization,
    architecture: own.architecture,
    device,
    provider,
    fallbacks,
    ...(wasmThreads === undefined ? {} : { wasmThreads }),
    metadata: own,
  });
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
