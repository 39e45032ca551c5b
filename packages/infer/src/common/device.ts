// The one table from a user-facing `device` to the ONNX Runtime execution providers of each platform, and the
// resolution of a requested device into the ordered list of providers to try.
import { InferInputError } from './errors.js';

/** Every device a caller may ask for; `auto` takes the first of the platform's order that starts. */
export const DEVICES = ['auto', 'cuda', 'webgpu', 'cpu', 'wasm'] as const;

/** A device a caller may ask for. */
export type Device = (typeof DEVICES)[number];

/** A device that runs a session; what `auto` resolves to. */
export type ConcreteDevice = Exclude<Device, 'auto'>;

/** ONNX Runtime execution provider names, as `executionProviders` takes them. */
export type ExecutionProvider = 'cpu' | 'cuda' | 'webgpu' | 'wasm';

/** Where the classifier runs; each has its own entry (`src/node`, `src/web`). */
export type Platform = 'node' | 'web';

/** How one platform serves devices. */
export interface PlatformDevices {
  /** The device used when the caller names none. */
  readonly default: Device;
  /** What `auto` tries, in order. */
  readonly auto: readonly ConcreteDevice[];
  /** The provider of each device the platform has; a device missing here is not available on the platform. */
  readonly providers: Readonly<Partial<Record<ConcreteDevice, ExecutionProvider>>>;
}

// Node defaults to cpu rather than auto: probing cuda and webgpu costs little, but ORT logs every failed probe
// to stderr, which a server should not print on each load unless asked. onnxruntime-web registers its wasm
// backend under both `cpu` and `wasm`, hence cpu -> wasm on the web.
/** Device to execution provider, per platform. Frozen: a later platform or device is one more row here. */
export const DEVICE_TABLE: Readonly<Record<Platform, PlatformDevices>> = Object.freeze({
  node: Object.freeze({
    default: 'cpu',
    auto: Object.freeze(['cuda', 'webgpu', 'cpu'] as const),
    providers: Object.freeze({ cuda: 'cuda', webgpu: 'webgpu', cpu: 'cpu' } as const),
  }),
  web: Object.freeze({
    default: 'auto',
    auto: Object.freeze(['webgpu', 'wasm'] as const),
    providers: Object.freeze({ webgpu: 'webgpu', wasm: 'wasm', cpu: 'wasm' } as const),
  }),
});

/** One device to try and the provider that runs it. */
export interface DeviceCandidate {
  device: ConcreteDevice;
  provider: ExecutionProvider;
}

/** True for the names in {@link DEVICES}. */
export function isDevice(value: unknown): value is Device {
  return typeof value === 'string' && (DEVICES as readonly string[]).includes(value);
}

/** The devices a platform offers, `auto` first. */
export function platformDevices(platform: Platform): Device[] {
  const { providers } = DEVICE_TABLE[platform];
  return DEVICES.filter((d) => d === 'auto' || providers[d] !== undefined);
}

const quoted = (names: readonly string[]): string => names.map((n) => JSON.stringify(n)).join(', ');

/**
 * The providers to try, in order, for a requested device (`undefined` takes the platform's default).
 * @throws InferInputError for a name outside {@link DEVICES} (listing them) and for a device the platform lacks
 * (listing the platform's).
 */
export function resolveDevice(
  requested: unknown,
  platform: Platform,
): { device: Device; candidates: DeviceCandidate[] } {
  const row = DEVICE_TABLE[platform];
  const device = requested === undefined ? row.default : requested;
  if (!isDevice(device)) throw new InferInputError('device', `one of ${quoted(DEVICES)}`, device);
  const wanted = device === 'auto' ? row.auto : [device];
  const candidates: DeviceCandidate[] = [];
  for (const d of wanted) {
    const provider = row.providers[d];
    if (provider !== undefined) candidates.push({ device: d, provider });
  }
  if (candidates.length === 0) {
    throw new InferInputError(
      'device',
      `one of the devices available in ${platform}: ${quoted(platformDevices(platform))}`,
      device,
    );
  }
  return { device, candidates };
}
