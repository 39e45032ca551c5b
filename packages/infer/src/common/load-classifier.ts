// Loading: check the model (valid ONNX, its digest, its metadata against its graph), then create a session on the
// requested device, trying the devices of `auto` in order and recording why each one that failed did. A model that
// ONNX Runtime cannot load on the platform's baseline device is the model's fault, not the device's.
import {
  DataType,
  modelDigest,
  readModelMetadata,
  readModelSignature,
  wireRecords,
  type ModelSignature,
  type TensorSignature,
} from '@depthfold/onnx';
import type { ModelMetadata } from '@depthfold/core';
import type { InferenceBackend } from './backend.js';
import { SessionClassifier } from './classifier-impl.js';
import { DEVICE_TABLE, resolveDevice } from './device.js';
import {
  describeType,
  InferInputError,
  InferIntegrityError,
  InferModelError,
  ProviderUnavailableError,
  reasonOf,
} from './errors.js';
import { deviceErrorOf, type StartedSession, startFirstSession } from './session-start.js';
import type { Classifier, ClassifierInfo, LoadOptions } from './classifier.js';

/**
 * Loads a depthfold model with a platform's backend. The classifier takes pixels, raw images and what
 * `backend.images` decodes; each entry narrows the type to what its platform takes.
 * @throws InferInputError for a bad `model`, `device` or `verifyIntegrity`; InferModelError for bytes that are not
 * valid ONNX (also when ONNX Runtime cannot load them) or metadata that disagrees with the graph; InferIntegrityError
 * when the graph and weights do not match the stored digest (or none is stored) and `verifyIntegrity` is not false;
 * DepthfoldInputError (from `@depthfold/onnx`) for a model without depthfold metadata or with metadata that fails
 * the schema; InferDeviceError when no requested device starts a session for a valid model.
 */
export async function loadClassifier(
  backend: InferenceBackend,
  model: string | Uint8Array,
  options: LoadOptions = {},
): Promise<Classifier<unknown>> {
  if (typeof model !== 'string' && !(model instanceof Uint8Array)) {
    throw new InferInputError(
      'model',
      'a path (string) or the bytes of an .onnx file (Uint8Array)',
      describeType(model),
    );
  }
  const verify = options.verifyIntegrity ?? true;
  if (typeof verify !== 'boolean') throw new InferInputError('verifyIntegrity', 'true or false', verify);
  // The device is checked before any I/O so that a typo fails at once.
  const { device, candidates } = resolveDevice(options.device, backend.platform);
  const { bytes, source } = await backend.readModel(model);
  checkWireFormat(bytes, source);
  const metadata = readModelMetadata(bytes, source);
  if (verify) await checkIntegrity(bytes, metadata, source);
  checkMetadataAgainstGraph(signatureOf(bytes, source), metadata, source);
  const { started, fallbacks, errors } = await startFirstSession(backend, bytes, candidates);
  if (started) {
    const { session } = started;
    return new SessionClassifier(session, infoOf(metadata, started, session.wasmThreads), backend.images, source);
  }
  await blameModelIfBaselineFails(backend, bytes, source, errors);
  throw deviceErrorOf(backend, device, fallbacks);
}

/** ModelProto's field number of its graph (onnx.proto). */
const GRAPH_FIELD = 7;

// Bytes that do not even split into protobuf records (text, a truncated download), or records without a graph (an
// empty file, two stray bytes), are refused before any runtime sees them: ONNX Runtime would say "protobuf parsing
// failed" from whichever device was tried, and the metadata reader would blame the metadata.
function checkWireFormat(bytes: Uint8Array, source: string): void {
  let records: ReturnType<typeof wireRecords>;
  try {
    records = wireRecords(bytes);
  } catch (error) {
    throw new InferModelError(
      source,
      'bytes',
      'an ONNX model (a protobuf ModelProto)',
      `${bytes.length} bytes that are not valid ONNX`,
      reasonOf(error),
    );
  }
  if (!records.some((r) => r.field === GRAPH_FIELD)) {
    throw new InferModelError(
      source,
      'bytes',
      'an ONNX model (a protobuf ModelProto with a graph)',
      `${bytes.length} bytes that are not valid ONNX`,
      'no graph (field 7) among its records',
    );
  }
}

// The graph's inputs and outputs; a graph whose protobuf does not decode is not valid ONNX either.
function signatureOf(bytes: Uint8Array, source: string): ModelSignature {
  try {
    return readModelSignature(bytes, source);
  } catch (error) {
    const reason = reasonOf(error instanceof Error && error.cause !== undefined ? error.cause : error);
    throw new InferModelError(
      source,
      'graph',
      'an ONNX graph that decodes',
      `${bytes.length} bytes that are not valid ONNX`,
      reason,
    );
  }
}

/**
 * The platform's baseline device is the last of `auto` (cpu in Node, wasm on the web): it runs every valid ONNX model,
 * so a model it cannot load is not valid ONNX, whatever the device asked for. Where the baseline was not among the
 * devices tried (an explicit cuda or webgpu), it is tried once here, on this failure path only.
 * @throws InferModelError when the baseline cannot load the model for a reason other than its own absence.
 */
async function blameModelIfBaselineFails(
  backend: InferenceBackend,
  bytes: Uint8Array,
  source: string,
  errors: ReadonlyMap<string, unknown>,
): Promise<void> {
  const row = DEVICE_TABLE[backend.platform];
  const provider = row.providers[row.auto[row.auto.length - 1]!];
  if (provider === undefined) return;
  let failure = errors.get(provider);
  if (!errors.has(provider)) {
    try {
      await (await backend.createSession(bytes, provider)).release();
      return;
    } catch (error) {
      failure = error;
    }
  }
  if (failure === undefined || failure instanceof ProviderUnavailableError) return;
  throw new InferModelError(
    source,
    'graph',
    'a valid ONNX model that ONNX Runtime can load',
    'a model that is not valid ONNX',
    `ONNX Runtime, provider ${provider}: ${reasonOf(failure)}`,
  );
}

// The digest covers every byte of the file but its metadata_props: a weight flipped in transit, a truncated copy or a
// file edited after export no longer matches. A model without one is refused too, since stripping the digest would
// otherwise be the way around it.
async function checkIntegrity(bytes: Uint8Array, metadata: ModelMetadata, source: string): Promise<void> {
  const stored = metadata.integrity?.sha256;
  if (stored === undefined) {
    throw new InferIntegrityError(
      source,
      'metadata_props.integrity',
      'the SHA-256 of the graph and weights that pnpm export writes (tools/stamp-model-digest.ts adds it to an older model)',
      undefined,
    );
  }
  let actual: string;
  try {
    actual = await modelDigest(bytes, source);
  } catch (error) {
    throw new InferInputError(
      'verifyIntegrity',
      'SubtleCrypto to hash the model (pass { verifyIntegrity: false } where there is none)',
      reasonOf(error),
    );
  }
  if (actual !== stored) {
    throw new InferIntegrityError(
      source,
      'metadata_props.integrity.sha256',
      `${stored}, the digest stored at export (the graph or weights changed since)`,
      actual,
    );
  }
}

const dimsText = (dims: TensorSignature['dims']): string => `[${(dims ?? []).map((d) => d ?? '?').join(', ')}]`;

function findTensor(
  list: readonly TensorSignature[],
  name: string,
  field: string,
  what: string,
  source: string,
): TensorSignature {
  const found = list.find((t) => t.name === name);
  if (found) return found;
  throw new InferModelError(source, field, `a graph ${what} (${list.map((t) => t.name).join(', ')})`, name);
}

/**
 * The metadata must describe the graph it rides on: the input's channels, height and width are dims 1-3 of the graph
 * input (NCHW), the labels are as many as dim 1 of the graph output, both float32. A file whose metadata was edited
 * (32x32x3 on a 28x28x1 graph) is refused here rather than failing at the first classify.
 */
function checkMetadataAgainstGraph(signature: ModelSignature, metadata: ModelMetadata, source: string): void {
  const input = findTensor(signature.inputs, metadata.input.name, 'metadata.input.name', 'input', source);
  const output = findTensor(signature.outputs, metadata.output.name, 'metadata.output.name', 'output', source);
  for (const [tensor, what] of [
    [input, 'input'],
    [output, 'output'],
  ] as const) {
    if (tensor.elemType !== DataType.FLOAT) {
      throw new InferModelError(
        source,
        `graph ${what} ${JSON.stringify(tensor.name)} element type`,
        `${DataType.FLOAT} (float32)`,
        tensor.elemType,
      );
    }
  }
  const inDims = input.dims ?? [];
  if (inDims.length !== 4) {
    throw new InferModelError(
      source,
      `graph input ${JSON.stringify(input.name)} dims`,
      '4 dims [N, C, H, W]',
      dimsText(input.dims),
    );
  }
  (['channels', 'height', 'width'] as const).forEach((key, i) => {
    const dim = inDims[i + 1];
    if (dim !== metadata.input[key]) {
      throw new InferModelError(
        source,
        `metadata.input.${key}`,
        `${dim ?? 'a fixed size'} (dim ${i + 1} of the graph input ${JSON.stringify(input.name)}, dims ${dimsText(inDims)})`,
        metadata.input[key],
      );
    }
  });
  const outDims = output.dims ?? [];
  const classes = outDims[1];
  if (outDims.length !== 2 || classes !== metadata.labels.length) {
    const expected =
      outDims.length === 2 && typeof classes === 'number'
        ? `${classes} labels`
        : 'as many labels as the graph has classes';
    throw new InferModelError(
      source,
      'metadata.labels',
      `${expected} (dim 1 of the graph output ${JSON.stringify(output.name)}, dims ${dimsText(outDims)})`,
      `${metadata.labels.length} labels`,
    );
  }
}

// A deep-frozen copy: the normalisation and labels that classify uses cannot be changed through `info`.
function infoOf(
  metadata: ModelMetadata,
  { device, provider, fallbacks }: StartedSession,
  wasmThreads: number | undefined,
): ClassifierInfo {
  const own = deepFreeze(structuredClone(metadata));
  const { height, width, channels } = own.input;
  return deepFreeze({
    labels: own.labels,
    input: { height, width, channels },
    preprocessing: own.input.preprocessing,
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
