// The models a server serves: a repository folder (Triton's layout or lone .onnx files) and/or named files, each
// model's versions loaded after its version policy with their own sessions and batcher, and Triton's model control
// (none, explicit, poll). Requests hold a lease on the version they run on: a version that is replaced or unloaded
// leaves the table at once (new requests go to its successor, or get 404) and is closed only when its last lease is
// released, so no request in flight fails because of a load or an unload. A model that fails to load is kept in the
// index with its reason; the others serve on.
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { HttpError } from './errors.js';
import {
  assertConfigMatches,
  assertConfigUsable,
  DEFAULT_MODEL_FILENAME,
  DEFAULT_VERSION_POLICY,
  modelConfigResponse,
  type ModelConfigResponse,
  type ServedConfig,
  versionsToServe,
} from './model-config.js';
import { MODEL_VERSION, modelMetadataResponse } from './model-spec.js';
import type { ModelMetadataResponse } from './protocol.js';
import { fingerprintOfModel, type ModelSource, scanRepository } from './repository-scan.js';
import { loadServedModel, type ModelOptions, type ServedModel } from './served-model.js';
import { ServerStatistics } from './statistics.js';

/** Triton's model control modes: who decides what is loaded. */
export const CONTROL_MODES = ['none', 'explicit', 'poll'] as const;

/** `none`: everything at start, no changes; `explicit`: the load and unload APIs; `poll`: the folder, rescanned. */
export type ModelControlMode = (typeof CONTROL_MODES)[number];

/** A model's state in the repository index, as Triton names them. */
export type ModelState = 'READY' | 'LOADING' | 'UNLOADING' | 'UNAVAILABLE';

/** One entry of `POST /v2/repository/index`. */
export interface IndexEntry {
  name: string;
  version?: string;
  state: ModelState;
  reason: string;
}

/** Where the models come from and how they are loaded. */
export interface RepositoryOptions {
  /** A model repository folder. */
  readonly root?: string;
  /** Lone .onnx files, each a model of version 1 named after its file (`--model`). */
  readonly files?: readonly string[];
  /** Default `none`. */
  readonly controlMode?: ModelControlMode;
  /** In `explicit` mode, the models loaded at start (`*` for all); default none. */
  readonly loadModels?: readonly string[];
  /** In `poll` mode, how often the folder is read again; default 15 s, as Triton's --repository-poll-secs. */
  readonly pollIntervalMs?: number;
  /** Model versions loaded at once, at most; a load beyond it is refused (507). Default: no limit. */
  readonly maxLoadedModels?: number;
  /** Bytes of loaded models (file size times sessions, summed), at most; a load beyond it is refused (507). */
  readonly maxModelBytes?: number;
  /** How each model is loaded where its config.pbtxt says nothing (device, batching, sessions...). */
  readonly model?: ModelOptions;
  /** Told of each load, unload and failure, for the log. */
  readonly log?: (message: string) => void;
}

/** A request's hold on the version it runs on; release it when the reply is sent. */
export interface ModelLease {
  readonly model: ServedModel;
  release(): void;
}

interface LoadedVersion {
  readonly model: ServedModel;
  readonly served: ServedConfig;
  /** The file's fingerprint and the config's text it was loaded from: what tells a reload is needed. */
  readonly fingerprint: string;
  readonly budgetBytes: number;
  leases: number;
  onDrained: (() => void) | undefined;
}

interface ModelSlot {
  readonly name: string;
  /** Versions serving now, by version. */
  readonly versions: Map<string, LoadedVersion>;
  /** Versions replaced or unloaded whose requests in flight are finishing. */
  readonly retiring: Set<LoadedVersion>;
  /** Versions that failed their last load, with why; '' for a model-wide failure. */
  readonly failures: Map<string, string>;
  loading: boolean;
  /** Why nothing is loaded, when nothing is (e.g. "unloaded"). */
  note: string;
  /** The fingerprint of the source last loaded (or tried), so that poll does not retry an unchanged failure. */
  tried: string | undefined;
  /** Loads and unloads of one model run one after another. */
  queue: Promise<void>;
}

const reasonOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
const byVersion = (a: string, b: string): number => Number(a) - Number(b);

/** The models being served, and the model repository extension's index, load and unload. */
export class ModelRepository {
  /** Statistics and metrics of every version loaded. */
  readonly statistics = new ServerStatistics();
  readonly controlMode: ModelControlMode;
  readonly #options: RepositoryOptions;
  readonly #slots = new Map<string, ModelSlot>();
  /** The names the last scan found, so that a request for one not loaded is told so. */
  #found = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> | undefined;
  #closed = false;

  private constructor(options: RepositoryOptions) {
    this.#options = options;
    this.controlMode = options.controlMode ?? 'none';
  }

  /**
   * Opens a repository and loads what its control mode loads at start. Models that fail are listed with their
   * reason; this resolves all the same.
   * @throws HttpError 400 for options that contradict each other; the error of reading `root` when it is not a folder.
   */
  static async open(options: RepositoryOptions): Promise<ModelRepository> {
    if (options.root === undefined && (options.files ?? []).length === 0)
      throw new HttpError(400, 'a repository needs a folder (--model-repository) or a model file (--model)');
    for (const [field, value] of Object.entries({
      maxLoadedModels: options.maxLoadedModels,
      maxModelBytes: options.maxModelBytes,
      pollIntervalMs: options.pollIntervalMs,
    })) {
      if (value !== undefined && !(Number.isInteger(value) && value >= 1))
        throw new HttpError(400, `repository options ${field}: expected an integer >= 1, received ${value}`);
    }
    const repository = new ModelRepository(options);
    if (options.root !== undefined) await scanRepository(options.root); // a missing folder fails here, at once
    const sources = await repository.#scan();
    const wanted = repository.controlMode === 'explicit' ? (options.loadModels ?? []) : ['*'];
    const all = wanted.includes('*');
    // One at a time: loading several models at once on a small machine only makes each load slower.
    for (const source of sources) {
      if (all || wanted.includes(source.name)) await repository.#enqueue(source.name, () => repository.#load(source));
    }
    for (const name of all ? [] : wanted) {
      if (!sources.some((s) => s.name === name)) repository.#slot(name).failures.set('', 'not in the repository');
    }
    if (repository.controlMode === 'poll') {
      repository.#timer = setInterval(() => void repository.poll(), options.pollIntervalMs ?? 15_000);
      repository.#timer.unref();
    }
    return repository;
  }

  /** A repository of models already loaded (the library's `startServer(model)`): control mode none. */
  static ofModels(models: readonly ServedModel[]): ModelRepository {
    const repository = new ModelRepository({ controlMode: 'none' });
    for (const model of models) {
      const served: ServedConfig = {
        maxBatchSize: model.options.maxBatch,
        maxQueueDelayMicroseconds: model.options.batching ? Math.round(model.options.batchDelayMs * 1000) : undefined,
        instances: model.options.maxInflight,
        gpu: model.device !== 'cpu',
        versionPolicy: DEFAULT_VERSION_POLICY,
        labelFilename: '',
        defaultModelFilename: basename(model.path),
      };
      repository.#install(repository.#slot(model.spec.name), model, served, '');
    }
    return repository;
  }

  /** Names of the models with a version serving, sorted. */
  get loadedNames(): string[] {
    return [...this.#slots.values()]
      .filter((s) => s.versions.size > 0)
      .map((s) => s.name)
      .sort();
  }

  /** Every version serving now. */
  get loaded(): ServedModel[] {
    return [...this.#slots.values()].flatMap((s) => [...s.versions.values()].map((v) => v.model));
  }

  /** Versions serving now, and their bytes against the budget. */
  get usage(): { models: number; bytes: number } {
    const versions = [...this.#slots.values()].flatMap((s) => [...s.versions.values()]);
    return { models: versions.length, bytes: versions.reduce((n, v) => n + v.budgetBytes, 0) };
  }

  /** True while every loaded version's sessions are alive. */
  get healthy(): boolean {
    return this.loaded.every((m) => m.ready);
  }

  #slot(name: string): ModelSlot {
    let slot = this.#slots.get(name);
    if (!slot) {
      slot = {
        name,
        versions: new Map(),
        retiring: new Set(),
        failures: new Map(),
        loading: false,
        note: 'not loaded',
        tried: undefined,
        queue: Promise.resolve(),
      };
      this.#slots.set(name, slot);
    }
    return slot;
  }

  #enqueue<T>(name: string, op: () => Promise<T>): Promise<T> {
    const slot = this.#slot(name);
    const run = slot.queue.then(op);
    slot.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  // The folder's models and the named files, read now.
  async #scan(): Promise<ModelSource[]> {
    const sources: ModelSource[] = [];
    if (this.#options.root !== undefined) sources.push(...(await scanRepository(this.#options.root)));
    for (const path of this.#options.files ?? []) {
      const name = basename(path).replace(/\.onnx$/i, '');
      try {
        const s = await stat(path);
        if (!s.isFile()) throw new Error('not a file');
        sources.push({
          name,
          layout: 'file',
          versions: [{ version: MODEL_VERSION, path, fingerprint: `${s.size}:${s.mtimeMs}`, bytes: s.size }],
        });
      } catch (error) {
        sources.push({
          name,
          layout: 'file',
          versions: [],
          problem: `model: expected a readable .onnx file, received ${reasonOf(error)}`,
        });
      }
    }
    this.#found = new Set(sources.map((s) => s.name));
    return sources;
  }

  // The served versions of `slot`, latest first.
  #versionsOf(slot: ModelSlot): string[] {
    return [...slot.versions.keys()].sort(byVersion).reverse();
  }

  /**
   * A lease on a version of `name` (the latest when `version` is undefined), for one request.
   * @throws HttpError 404 for a model or version not served (naming what is), 503 while the model is loading.
   */
  acquire(name: string, version: string | undefined): ModelLease {
    const entry = this.#find(name, version);
    entry.leases++;
    let released = false;
    return {
      model: entry.model,
      release: () => {
        if (released) return;
        released = true;
        entry.leases--;
        if (entry.leases === 0) entry.onDrained?.();
      },
    };
  }

  /**
   * The loaded version of `name` that a request without a version goes to (the latest), or the one named.
   * @throws HttpError as {@link acquire}.
   */
  model(name: string, version?: string): ServedModel {
    return this.#find(name, version).model;
  }

  #find(name: string, version: string | undefined): LoadedVersion {
    const slot = this.#slots.get(name);
    if (!slot || slot.versions.size === 0) {
      if (slot?.loading) throw new HttpError(503, `model ${JSON.stringify(name)} is loading; retry shortly`);
      const served = this.loadedNames;
      const list =
        served.length === 0
          ? 'none'
          : served
              .slice(0, 20)
              .map((n) => JSON.stringify(n))
              .join(', ');
      if (!slot && this.#found.has(name))
        throw new HttpError(
          404,
          `model ${JSON.stringify(name)} not found: it is in the repository but not loaded; this server serves ${list}`,
        );
      if (!slot) throw new HttpError(404, `model ${JSON.stringify(name)} not found (this server serves ${list})`);
      const failure = [...slot.failures.values()][0];
      throw new HttpError(
        404,
        `model ${JSON.stringify(name)} not found: it is not loaded (${failure ?? slot.note}); this server serves ${list}`,
      );
    }
    const chosen = version ?? this.#versionsOf(slot)[0]!;
    const entry = slot.versions.get(chosen);
    if (!entry) {
      const versions = this.#versionsOf(slot)
        .reverse()
        .map((v) => JSON.stringify(v))
        .join(', ');
      throw new HttpError(
        404,
        `model ${JSON.stringify(name)} has no version ${JSON.stringify(chosen)} (versions: ${versions})`,
      );
    }
    return entry;
  }

  /**
   * The V2 model metadata of a served model (`versions` lists every version served).
   * @throws HttpError as {@link acquire}.
   */
  metadata(name: string, version?: string): ModelMetadataResponse {
    const entry = this.#find(name, version);
    return modelMetadataResponse(entry.model.spec, this.#versionsOf(this.#slots.get(name)!));
  }

  /**
   * The configuration of a served version, as Triton's model configuration extension answers it.
   * @throws HttpError as {@link acquire}.
   */
  config(name: string, version?: string): ModelConfigResponse {
    const entry = this.#find(name, version);
    return modelConfigResponse(entry.model.spec, entry.served);
  }

  /**
   * The repository index: every model in the folder or named, loaded or not, each loaded version with its state,
   * and the reason of each that is not serving. `readyOnly` keeps the READY entries.
   */
  async index(readyOnly = false): Promise<IndexEntry[]> {
    let sources: ModelSource[] = [];
    try {
      sources = await this.#scan();
    } catch (error) {
      this.#options.log?.(`repository: cannot read ${this.#options.root}: ${reasonOf(error)}`);
    }
    const names = new Set([...sources.map((s) => s.name), ...this.#slots.keys()]);
    const entries: IndexEntry[] = [];
    for (const name of [...names].sort()) {
      const slot = this.#slots.get(name);
      const source = sources.find((s) => s.name === name);
      const own: IndexEntry[] = [];
      for (const version of slot ? [...slot.versions.keys()].sort(byVersion) : [])
        own.push({ name, version, state: 'READY', reason: '' });
      for (const retiring of slot?.retiring ?? []) {
        const version = retiring.model.spec.version;
        if (!slot!.versions.has(version))
          own.push({ name, version, state: 'UNLOADING', reason: 'finishing requests in flight' });
      }
      for (const [version, reason] of slot?.failures ?? []) {
        if (version !== '' && slot!.versions.has(version)) {
          own.push({
            name,
            version,
            state: 'UNAVAILABLE',
            reason: `a reload failed, the version loaded before serves on: ${reason}`,
          });
          continue;
        }
        own.push({ name, ...(version === '' ? {} : { version }), state: 'UNAVAILABLE', reason });
      }
      if (slot?.loading) own.push({ name, state: 'LOADING', reason: '' });
      if (own.length === 0)
        own.push({ name, state: 'UNAVAILABLE', reason: source?.problem ?? slot?.note ?? 'not loaded' });
      entries.push(...own);
    }
    return readyOnly ? entries.filter((e) => e.state === 'READY') : entries;
  }

  #assertControl(): void {
    if (this.controlMode !== 'explicit')
      throw new HttpError(
        400,
        `model control is ${this.controlMode === 'poll' ? 'by polling the repository' : 'disabled'} (--model-control-mode ${this.controlMode}); load and unload need --model-control-mode explicit`,
      );
  }

  /**
   * Loads `name` from the repository, or reloads it: new and changed versions are loaded beside those serving,
   * then take over at once; versions the policy no longer serves are unloaded after their requests in flight.
   * Resolves once the model serves as the repository says.
   * @throws HttpError 400 when model control is not explicit or a version fails to load (the versions that served
   * before serve on), 404 for a model not in the repository, 507 when the load would pass --max-loaded-models or
   * --max-model-bytes.
   */
  async load(name: string): Promise<void> {
    this.#assertControl();
    const where = this.#options.root === undefined ? 'the files named' : this.#options.root;
    const missing = (): HttpError =>
      new HttpError(404, `model ${JSON.stringify(name)} is not in the repository (${where})`);
    if (!(await this.#scan()).some((s) => s.name === name)) throw missing();
    await this.#enqueue(name, async () => {
      const source = (await this.#scan()).find((s) => s.name === name);
      if (!source) throw missing();
      await this.#load(source, true);
    });
  }

  /**
   * Unloads every version of `name`: each leaves the table at once and is closed after its requests in flight.
   * Resolves when they are closed. Unloading a model that is not loaded does nothing.
   * @throws HttpError 400 when model control is not explicit, 404 for a name neither loaded nor in the repository.
   */
  async unload(name: string): Promise<void> {
    this.#assertControl();
    const slot = this.#slots.get(name);
    const loaded = slot !== undefined && (slot.versions.size > 0 || slot.retiring.size > 0);
    if (!loaded && !(await this.#scan()).some((s) => s.name === name))
      throw new HttpError(404, `model ${JSON.stringify(name)} not found (not loaded, not in the repository)`);
    await this.#enqueue(name, () => this.#unload(name, 'unloaded'));
  }

  async #unload(name: string, note: string): Promise<void> {
    const slot = this.#slot(name);
    const retired = [...slot.versions.values()];
    slot.versions.clear();
    slot.failures.clear();
    slot.note = note;
    slot.tried = undefined;
    if (retired.length > 0) this.#options.log?.(`repository: ${name}: ${note}; finishing its requests in flight`);
    await Promise.all(retired.map((v) => this.#retire(slot, v)));
  }

  // Waits for a version's last lease, then closes it; its statistics go once no instance of the version serves.
  async #retire(slot: ModelSlot, entry: LoadedVersion): Promise<void> {
    slot.retiring.add(entry);
    if (entry.leases > 0) await new Promise<void>((resolve) => (entry.onDrained = resolve));
    await entry.model.close();
    slot.retiring.delete(entry);
    const { name, version } = entry.model.spec;
    if (!slot.versions.has(version)) this.statistics.forget(name, version);
  }

  #install(slot: ModelSlot, model: ServedModel, served: ServedConfig, fingerprint: string): LoadedVersion {
    const entry: LoadedVersion = {
      model,
      served,
      fingerprint,
      budgetBytes: model.fileBytes * served.instances,
      leases: 0,
      onDrained: undefined,
    };
    this.statistics.track(model.spec, model.batcher, entry.budgetBytes);
    slot.versions.set(model.spec.version, entry);
    return entry;
  }

  // The budget once `adding` versions of `addingBytes` serve beside the `kept` versions of `slot` (a switch-over
  // briefly holds both the old and the new version; the limits are on what serves after it).
  #assertBudget(slot: ModelSlot, kept: readonly string[], adding: number, addingBytes: number): void {
    const others = [...this.#slots.values()].filter((s) => s !== slot).flatMap((s) => [...s.versions.values()]);
    const keptEntries = kept.map((v) => slot.versions.get(v)!);
    const models = others.length + keptEntries.length + adding;
    const bytes = [...others, ...keptEntries].reduce((n, v) => n + v.budgetBytes, 0) + addingBytes;
    const { maxLoadedModels, maxModelBytes } = this.#options;
    if (maxLoadedModels !== undefined && models > maxLoadedModels)
      throw new HttpError(
        507,
        `loading ${JSON.stringify(slot.name)} would make ${models} model versions loaded, over --max-loaded-models ${maxLoadedModels} (loaded: ${this.loadedNames.join(', ') || 'none'}); unload one first`,
      );
    if (maxModelBytes !== undefined && bytes > maxModelBytes)
      throw new HttpError(
        507,
        `loading ${JSON.stringify(slot.name)} would make ${bytes} bytes of models loaded (file size x sessions), over --max-model-bytes ${maxModelBytes}; unload one first`,
      );
  }

  // Loads what `source` says should serve; `report` throws the first failure (the load API) rather than only noting it.
  async #load(found: ModelSource, report = false): Promise<void> {
    const slot = this.#slot(found.name);
    slot.tried = fingerprintOfModel(found);
    let source = found;
    try {
      if (found.config && found.problem === undefined) assertConfigUsable(found.config, found.name);
    } catch (error) {
      source = { ...found, problem: reasonOf(error) };
    }
    if (source.problem !== undefined) {
      slot.failures.clear();
      slot.failures.set('', source.problem);
      this.#options.log?.(`repository: ${source.name}: cannot load: ${source.problem}`);
      if (report) throw new HttpError(400, `failed to load ${JSON.stringify(source.name)}: ${source.problem}`);
      return;
    }
    const policy = source.config?.versionPolicy ?? DEFAULT_VERSION_POLICY;
    const wanted = versionsToServe(
      policy,
      source.versions.map((v) => v.version),
    );
    const configText = source.configText ?? '';
    const toLoad = source.versions.filter((v) => {
      if (!wanted.includes(v.version)) return false;
      const loaded = slot.versions.get(v.version);
      return !loaded || loaded.fingerprint !== `${configText}\u0000${v.fingerprint}`;
    });
    const defaults = this.#options.model ?? {};
    const config = source.config;
    const instances = config?.instances ?? defaults.maxInflight ?? 1;
    const options: ModelOptions = {
      ...defaults,
      name: source.name,
      ...(config?.maxBatchSize === undefined ? {} : { maxBatch: config.maxBatchSize }),
      ...(config?.instances === undefined ? {} : { maxInflight: config.instances }),
      // A config without dynamic_batching asks for Triton's default scheduler: each request its own call.
      ...(config
        ? {
            batching: config.dynamicBatching,
            ...(config.maxQueueDelayMicroseconds === undefined
              ? {}
              : { batchDelayMs: config.maxQueueDelayMicroseconds / 1000 }),
          }
        : {}),
      onFailure: (reason) => {
        defaults.onFailure?.(reason);
        this.#options.log?.(
          `repository: ${source.name}: a session's thread died (${reason}); the model is no longer ready`,
        );
      },
    };
    const keptVersions = [...slot.versions.keys()].filter(
      (v) => wanted.includes(v) && !toLoad.some((t) => t.version === v),
    );
    try {
      this.#assertBudget(
        slot,
        keptVersions,
        toLoad.length,
        toLoad.reduce((n, v) => n + v.bytes * instances, 0),
      );
    } catch (error) {
      for (const v of toLoad) slot.failures.set(v.version, reasonOf(error));
      if (slot.versions.size === 0) slot.note = 'not loaded';
      this.#options.log?.(`repository: ${source.name}: ${reasonOf(error)}`);
      if (report) throw error;
      return;
    }
    slot.loading = true;
    const loaded: ServedModel[] = [];
    const failed: [string, string][] = [];
    try {
      for (const v of toLoad) {
        try {
          const model = await loadServedModel(v.path, { ...options, version: v.version });
          try {
            if (config) assertConfigMatches(config, model.spec);
          } catch (error) {
            await model.close();
            throw error;
          }
          loaded.push(model);
        } catch (error) {
          failed.push([v.version, reasonOf(error)]);
        }
      }
    } finally {
      slot.loading = false;
    }
    if (this.#closed) {
      await Promise.all(loaded.map((m) => m.close()));
      return;
    }
    // The switch: every new version takes over in one step, then what no longer serves drains and closes.
    const replaced: LoadedVersion[] = [];
    for (const model of loaded) {
      const version = model.spec.version;
      const old = slot.versions.get(version);
      if (old) replaced.push(old);
      const fingerprint = `${configText}\u0000${source.versions.find((v) => v.version === version)!.fingerprint}`;
      this.#install(slot, model, this.#servedConfig(model, source, policy), fingerprint);
    }
    // Versions the policy no longer serves go only once every version it wants serves: a new version that failed
    // to load leaves the one before it in service.
    const complete = wanted.every((v) => slot.versions.has(v));
    for (const [version, entry] of [...slot.versions]) {
      if (complete && !wanted.includes(version)) {
        slot.versions.delete(version);
        replaced.push(entry);
      }
    }
    slot.failures.clear();
    for (const [version, reason] of failed) slot.failures.set(version, reason);
    slot.note = slot.versions.size > 0 ? '' : 'not loaded';
    for (const model of loaded)
      this.#options.log?.(
        `repository: ${source.name} version ${model.spec.version} loaded (${model.fileBytes} bytes, ${model.options.maxInflight} session(s) on ${model.device}; serving versions ${this.#versionsOf(slot).join(', ')})`,
      );
    for (const [version, reason] of failed)
      this.#options.log?.(`repository: ${source.name} version ${version} failed to load: ${reason}`);
    await Promise.all(replaced.map((entry) => this.#retire(slot, entry)));
    if (report && failed.length > 0) {
      const [version, reason] = failed[0]!;
      throw new HttpError(400, `failed to load ${JSON.stringify(source.name)} version ${version}: ${reason}`);
    }
  }

  #servedConfig(model: ServedModel, source: ModelSource, policy: ServedConfig['versionPolicy']): ServedConfig {
    const o = model.options;
    return {
      maxBatchSize: o.maxBatch,
      maxQueueDelayMicroseconds: o.batching ? Math.round(o.batchDelayMs * 1000) : undefined,
      instances: o.maxInflight,
      gpu: model.device !== 'cpu',
      versionPolicy: policy,
      labelFilename: source.config?.outputs[0]?.label_filename ?? '',
      defaultModelFilename:
        source.layout === 'file'
          ? basename(model.path)
          : (source.config?.defaultModelFilename ?? DEFAULT_MODEL_FILENAME),
    };
  }

  /**
   * Reads the folder again and follows it (poll mode does this on its timer): new and changed models are loaded,
   * removed ones unloaded. A model whose last load failed is tried again only once it changes.
   */
  poll(): Promise<void> {
    this.#polling ??= this.#pollOnce().finally(() => (this.#polling = undefined));
    return this.#polling;
  }

  async #pollOnce(): Promise<void> {
    if (this.#closed) return;
    let sources: ModelSource[];
    try {
      sources = await this.#scan();
    } catch (error) {
      this.#options.log?.(`repository: poll: ${reasonOf(error)}`);
      return;
    }
    for (const source of sources) {
      const slot = this.#slots.get(source.name);
      if (slot?.tried === fingerprintOfModel(source)) continue;
      await this.#enqueue(source.name, () => this.#load(source));
    }
    for (const slot of [...this.#slots.values()]) {
      if (slot.versions.size > 0 && !sources.some((s) => s.name === slot.name))
        await this.#enqueue(slot.name, () => this.#unload(slot.name, 'removed from the repository'));
    }
  }

  /** Stops polling, and closes every version once its requests in flight are done. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#polling;
    await Promise.all(
      [...this.#slots.values()].map((slot) => this.#enqueue(slot.name, () => this.#unload(slot.name, 'server closed'))),
    );
  }
}

/**
 * Refuses what the load and unload APIs do not do here: Triton's `config` and `file:` parameters (a configuration or
 * model sent with the request); `unload_dependents` is accepted on unload (a depthfold model has no dependents).
 * @throws HttpError 400 naming the parameter.
 */
export function checkControlParameters(parameters: Readonly<Record<string, unknown>> | undefined, load: boolean): void {
  for (const key of Object.keys(parameters ?? {})) {
    if (!load && key === 'unload_dependents') continue;
    throw new HttpError(
      400,
      `parameters.${key}: not supported (${load ? 'a load reads the model and its config.pbtxt from the repository; edit them there' : 'unload takes unload_dependents only'})`,
    );
  }
}
