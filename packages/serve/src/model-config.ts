// Triton's model configuration (ModelConfig of triton-inference-server/common protobuf/model_config.proto) as this
// server reads it from a repository's config.pbtxt and answers it (the model configuration extension,
// `GET /v2/models/{name}[/versions/{v}]/config` and gRPC ModelConfig): the fields a depthfold model uses, checked
// against the model's own metadata, and Triton's JSON of the configuration actually served.
import { parseTextFormat, type TextMessage, type TextValue } from './config-pbtxt.js';
import { IMAGE_FORMATS, INPUT_DATATYPES, type ModelSpec } from './model-spec.js';
import { PLATFORM } from './protocol.js';

/** Triton's backend name for ONNX Runtime models. */
export const BACKEND = 'onnxruntime';

/** The model file a version folder holds unless the config names another (`default_model_filename`). */
export const DEFAULT_MODEL_FILENAME = 'model.onnx';

/** Which of a model's version folders are served: Triton's `version_policy`. */
export type VersionPolicy =
  | { readonly latest: { readonly num_versions: number } }
  | { readonly all: Record<string, never> }
  | { readonly specific: { readonly versions: readonly number[] } };

/** Triton's default policy: only the highest-numbered version. */
export const DEFAULT_VERSION_POLICY: VersionPolicy = Object.freeze({ latest: Object.freeze({ num_versions: 1 }) });

/** One input or output as config.pbtxt declares it (dims without the batch dimension). */
export interface ConfigTensor {
  readonly name: string;
  readonly data_type: string;
  readonly dims: readonly number[];
  readonly label_filename?: string;
}

/** What this server takes from a config.pbtxt; absent fields fall back to the server's options. */
export interface RepositoryModelConfig {
  readonly name?: string;
  readonly platform?: string;
  readonly backend?: string;
  readonly maxBatchSize?: number;
  readonly inputs: readonly ConfigTensor[];
  readonly outputs: readonly ConfigTensor[];
  /** `dynamic_batching.max_queue_delay_microseconds`; undefined when the config has no dynamic_batching. */
  readonly maxQueueDelayMicroseconds?: number;
  readonly dynamicBatching: boolean;
  /** The sum of `instance_group[].count` (sessions, i.e. ORT calls at once). */
  readonly instances?: number;
  readonly versionPolicy: VersionPolicy;
  readonly defaultModelFilename: string;
}

/** A config.pbtxt this server cannot serve, with the field at fault. */
export class ModelConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelConfigError';
  }
}

// Fields read below; Triton's others (sequence batching, ensembles, warmup, optimization...) are refused by name
// rather than silently ignored, since serving without them would not be what the config asks for.
const KNOWN = new Set([
  'name',
  'platform',
  'backend',
  'max_batch_size',
  'input',
  'output',
  'dynamic_batching',
  'instance_group',
  'version_policy',
  'default_model_filename',
]);

const describe = (v: TextValue): string =>
  v.kind === 'message' ? 'a message' : v.kind === 'number' ? v.text : JSON.stringify(v.value);

function fail(field: string, expected: string, value: TextValue | undefined): never {
  const at = value ? ` (line ${value.line})` : '';
  throw new ModelConfigError(
    `config.pbtxt ${field}: expected ${expected}, received ${value ? describe(value) : 'nothing'}${at}`,
  );
}

function single(message: TextMessage, field: string, path: string): TextValue | undefined {
  const values = message.get(field);
  if (values === undefined || values.length === 0) return undefined;
  if (values.length > 1) fail(`${path}${field}`, 'one value', values[1]);
  return values[0];
}

function stringField(message: TextMessage, field: string, path = ''): string | undefined {
  const v = single(message, field, path);
  if (v === undefined) return undefined;
  if (v.kind !== 'string') fail(`${path}${field}`, 'a string', v);
  return v.value;
}

function intField(message: TextMessage, field: string, path = '', min = 0): number | undefined {
  const v = single(message, field, path);
  if (v === undefined) return undefined;
  if (v.kind !== 'number' || !Number.isInteger(v.value) || v.value < min)
    fail(`${path}${field}`, `an integer >= ${min}`, v);
  return v.value;
}

function messages(message: TextMessage, field: string, path = ''): TextMessage[] {
  return (message.get(field) ?? []).map((v, i) => {
    if (v.kind !== 'message') fail(`${path}${field}[${i}]`, 'a message { ... }', v);
    return v.value;
  });
}

function tensorOf(message: TextMessage, path: string, output: boolean): ConfigTensor {
  const name = stringField(message, 'name', path);
  if (name === undefined) fail(`${path}name`, 'the tensor name', undefined);
  const type = single(message, 'data_type', path);
  if (type === undefined || type.kind !== 'identifier') fail(`${path}data_type`, 'a type such as TYPE_FP32', type);
  const dims = (message.get('dims') ?? []).map((d, i) => {
    if (d.kind !== 'number' || !Number.isInteger(d.value) || d.value < -1)
      fail(`${path}dims[${i}]`, 'an integer >= -1', d);
    return d.value;
  });
  const label = output ? stringField(message, 'label_filename', path) : undefined;
  return { name, data_type: type.value, dims, ...(label ? { label_filename: label } : {}) };
}

function versionPolicyOf(config: TextMessage): VersionPolicy {
  const [policy, ...more] = messages(config, 'version_policy');
  if (more.length > 0) fail('version_policy', 'one policy', config.get('version_policy')![1]);
  if (!policy) return DEFAULT_VERSION_POLICY;
  const [choice, ...others] = [...policy.keys()];
  if (choice === undefined || others.length > 0)
    fail('version_policy', 'one of latest { num_versions: N }, all { }, specific { versions: [...] }', undefined);
  const [body] = messages(policy, choice, 'version_policy.');
  if (choice === 'latest')
    return { latest: { num_versions: intField(body!, 'num_versions', 'version_policy.latest.', 1) ?? 1 } };
  if (choice === 'all') return { all: {} };
  if (choice === 'specific') {
    const versions = (body!.get('versions') ?? []).map((v) => {
      if (v.kind !== 'number' || !Number.isInteger(v.value) || v.value < 0)
        fail('version_policy.specific.versions', 'version numbers', v);
      return v.value;
    });
    if (versions.length === 0) fail('version_policy.specific.versions', 'at least one version', undefined);
    return { specific: { versions } };
  }
  return fail('version_policy', 'latest, all or specific', undefined);
}

/**
 * Reads a config.pbtxt.
 * @throws ModelConfigError (or TextFormatError) naming the field or line at fault.
 */
export function parseModelConfig(text: string): RepositoryModelConfig {
  const config = parseTextFormat(text);
  for (const field of config.keys()) {
    if (!KNOWN.has(field))
      throw new ModelConfigError(
        `config.pbtxt ${field}: not supported by depthfold serve (it reads ${[...KNOWN].join(', ')})`,
      );
  }
  const batching = messages(config, 'dynamic_batching');
  const groups = messages(config, 'instance_group');
  const counts = groups.map((g, i) => intField(g, 'count', `instance_group[${i}].`, 1) ?? 1);
  const name = stringField(config, 'name');
  const platform = stringField(config, 'platform');
  const backend = stringField(config, 'backend');
  const maxBatchSize = intField(config, 'max_batch_size');
  const delay = batching[0] ? intField(batching[0], 'max_queue_delay_microseconds', 'dynamic_batching.') : undefined;
  return {
    ...(name === undefined ? {} : { name }),
    ...(platform === undefined ? {} : { platform }),
    ...(backend === undefined ? {} : { backend }),
    ...(maxBatchSize === undefined ? {} : { maxBatchSize }),
    inputs: messages(config, 'input').map((m, i) => tensorOf(m, `input[${i}].`, false)),
    outputs: messages(config, 'output').map((m, i) => tensorOf(m, `output[${i}].`, true)),
    dynamicBatching: batching.length > 0,
    ...(delay === undefined ? {} : { maxQueueDelayMicroseconds: delay }),
    ...(groups.length === 0 ? {} : { instances: counts.reduce((a, b) => a + b, 0) }),
    versionPolicy: versionPolicyOf(config),
    defaultModelFilename: stringField(config, 'default_model_filename') ?? DEFAULT_MODEL_FILENAME,
  };
}

const same = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((v, i) => v === b[i]);

/**
 * Checks what a config asks of the server, before any model is read: Triton's rule that `name` is the folder's, the
 * ONNX Runtime platform, and a batch dimension.
 * @param dirName - The model's folder in the repository.
 * @throws ModelConfigError naming the field.
 */
export function assertConfigUsable(config: RepositoryModelConfig, dirName: string): void {
  if (config.name !== undefined && config.name !== dirName)
    throw new ModelConfigError(
      `config.pbtxt name: expected ${JSON.stringify(dirName)} (the folder's name), received ${JSON.stringify(config.name)}`,
    );
  if (config.platform !== undefined && config.platform !== PLATFORM)
    throw new ModelConfigError(
      `config.pbtxt platform: expected "${PLATFORM}", received ${JSON.stringify(config.platform)}`,
    );
  if (config.backend !== undefined && config.backend !== BACKEND)
    throw new ModelConfigError(
      `config.pbtxt backend: expected "${BACKEND}", received ${JSON.stringify(config.backend)}`,
    );
  if (config.maxBatchSize === 0)
    throw new ModelConfigError(
      'config.pbtxt max_batch_size: expected an integer >= 1 (a depthfold model has a batch dimension), received 0',
    );
}

/**
 * Checks that a config's tensors are the model's, as Triton refuses a mismatch at load.
 * @throws ModelConfigError naming the field that disagrees with the model.
 */
export function assertConfigMatches(config: RepositoryModelConfig, spec: ModelSpec): void {
  const { channels, height, width } = spec.input;
  const checks: [string, readonly ConfigTensor[], string, readonly number[]][] = [
    ['input', config.inputs, spec.inputName, [channels, height, width]],
    ['output', config.outputs, spec.outputName, [spec.labels.length]],
  ];
  for (const [what, tensors, name, dims] of checks) {
    if (tensors.length === 0) continue;
    const described = tensors.map((t) => t.name).join(', ');
    if (tensors.length !== 1 || tensors[0]!.name !== name)
      throw new ModelConfigError(
        `config.pbtxt ${what}: expected one tensor ${JSON.stringify(name)} (the model's), received ${described}`,
      );
    const tensor = tensors[0]!;
    if (tensor.data_type !== 'TYPE_FP32')
      throw new ModelConfigError(`config.pbtxt ${what}[0].data_type: expected TYPE_FP32, received ${tensor.data_type}`);
    if (!same(tensor.dims, dims))
      throw new ModelConfigError(
        `config.pbtxt ${what}[0].dims: expected [${dims.join(', ')}] (the model's, without the batch dimension), received [${tensor.dims.join(', ')}]`,
      );
  }
}

/** The versions a policy serves out of those found (numeric strings), highest first. */
export function versionsToServe(policy: VersionPolicy, found: readonly string[]): string[] {
  const sorted = [...found].sort((a, b) => Number(b) - Number(a));
  if ('all' in policy) return sorted;
  if ('latest' in policy) return sorted.slice(0, policy.latest.num_versions);
  const wanted = new Set(policy.specific.versions.map(String));
  return sorted.filter((v) => wanted.has(String(Number(v))));
}

/** How a loaded version is actually served: what its configuration reply reports beside the model's tensors. */
export interface ServedConfig {
  readonly maxBatchSize: number;
  /** Dynamic batching's delay, or undefined when batching is off (Triton's default scheduler). */
  readonly maxQueueDelayMicroseconds: number | undefined;
  readonly instances: number;
  readonly gpu: boolean;
  readonly versionPolicy: VersionPolicy;
  /** The output's `label_filename` as the repository's config names it; '' for a model with none. */
  readonly labelFilename: string;
  readonly defaultModelFilename: string;
}

/** Triton's JSON of a ModelConfig: the message's fields, snake_case, as Triton prints them with defaults filled in. */
export interface ModelConfigResponse {
  name: string;
  platform: string;
  backend: string;
  version_policy: VersionPolicy;
  max_batch_size: number;
  input: {
    name: string;
    data_type: string;
    format: string;
    dims: number[];
    is_shape_tensor: boolean;
    allow_ragged_batch: boolean;
    optional: boolean;
  }[];
  output: { name: string; data_type: string; dims: number[]; label_filename: string; is_shape_tensor: boolean }[];
  dynamic_batching?: {
    preferred_batch_size: number[];
    max_queue_delay_microseconds: number;
    preserve_ordering: boolean;
  };
  instance_group: { name: string; kind: string; count: number; gpus: number[] }[];
  default_model_filename: string;
  /** Triton's free-form `parameters`: what depthfold serves beyond the tensors above ({@link DEPTHFOLD_PARAMETERS}). */
  parameters: Record<string, { string_value: string }>;
}

/**
 * The keys of the configuration's `parameters` (Triton's `map<string, ModelParameter>`, a field every Triton client
 * decodes) that say what the input takes beyond its FP32 tensor, for a client that reads the configuration rather
 * than the metadata (gRPC's ModelMetadata has no room for them):
 * - `depthfold_input_datatypes`: `FP32,UINT8,BYTES`;
 * - `depthfold_image_formats`: the formats of a BYTES input, `png,jpeg,webp,gif,tiff`;
 * - `depthfold_max_image_pixels`: the largest width x height decoded, in decimal;
 * - `depthfold_preprocessing`: the model's preprocessing, as JSON.
 */
export const DEPTHFOLD_PARAMETERS = [
  'depthfold_input_datatypes',
  'depthfold_image_formats',
  'depthfold_max_image_pixels',
  'depthfold_preprocessing',
] as const;

/**
 * The configuration reply of a loaded version: the model's tensors from its metadata and the batching, sessions and
 * policy it is served with, so that a config.pbtxt's fields come back as written (autocompleted as Triton does).
 */
export function modelConfigResponse(spec: ModelSpec, served: ServedConfig): ModelConfigResponse {
  const { channels, height, width } = spec.input;
  return {
    name: spec.name,
    platform: PLATFORM,
    backend: BACKEND,
    version_policy: served.versionPolicy,
    max_batch_size: served.maxBatchSize,
    input: [
      {
        name: spec.inputName,
        data_type: 'TYPE_FP32',
        format: 'FORMAT_NONE',
        dims: [channels, height, width],
        is_shape_tensor: false,
        allow_ragged_batch: false,
        optional: false,
      },
    ],
    output: [
      {
        name: spec.outputName,
        data_type: 'TYPE_FP32',
        dims: [spec.labels.length],
        label_filename: served.labelFilename,
        is_shape_tensor: false,
      },
    ],
    ...(served.maxQueueDelayMicroseconds === undefined
      ? {}
      : {
          dynamic_batching: {
            preferred_batch_size: [],
            max_queue_delay_microseconds: served.maxQueueDelayMicroseconds,
            preserve_ordering: false,
          },
        }),
    instance_group: [
      { name: `${spec.name}_0`, kind: served.gpu ? 'KIND_GPU' : 'KIND_CPU', count: served.instances, gpus: [] },
    ],
    default_model_filename: served.defaultModelFilename,
    parameters: {
      depthfold_input_datatypes: { string_value: INPUT_DATATYPES.join(',') },
      depthfold_image_formats: { string_value: IMAGE_FORMATS.join(',') },
      depthfold_max_image_pixels: { string_value: String(spec.maxImagePixels) },
      depthfold_preprocessing: { string_value: JSON.stringify(spec.preprocessing) },
    } satisfies Record<(typeof DEPTHFOLD_PARAMETERS)[number], { string_value: string }>,
  };
}
