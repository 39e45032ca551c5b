// The decode cache: each image decoded and preprocessed once, its input-sized bytes kept on disk, so that later
// epochs and later runs decode nothing (the format is described in cache-entry.ts). The first pass decodes the
// misses on every core and reports progress; images that cannot be decoded stop it, naming the file, or are skipped
// and listed.
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type Preprocessing, preprocessingSchema, parseWith } from '@depthfold/core';
import { writeFileAtomic } from '@depthfold/core/node';
import { ImageDecodeError, type ImageDecodeFailure } from '../errors.js';
import { checkSize, type ImageSize } from '../raw-image.js';
import { CACHE_FORMAT_VERSION, HEADER_BYTES, decodeEntry } from './cache-entry.js';
import { DEFAULT_LIMIT_INPUT_PIXELS } from './decode.js';
import type { DecodeJob, DecodeSettings } from './decode-job.js';
import { defaultDecodeThreads, runDecodeJobs } from './decode-pool.js';
import type { ImageFile } from './image-folder.js';
import { loadSharp } from './sharp-loader.js';

/** Options of {@link DecodeCache.open}. */
export interface DecodeCacheOptions {
  /** The cache's folder (e.g. `~/.cache/depthfold/images`); one sub-folder per preprocessing. */
  readonly dir: string;
  /** The preprocessing applied before caching (steps 1-3). */
  readonly preprocessing: Preprocessing;
  /** The size cached: the input's, or larger for training crops taken from the cached bytes. */
  readonly size: ImageSize;
  /** Images over this many pixels are refused from their header; default {@link DEFAULT_LIMIT_INPUT_PIXELS}. */
  readonly limitInputPixels?: number;
}

/** Files under a root, as a dataset description holds them (paths relative to `root`). */
export interface ImageList<F extends ImageFile = ImageFile> {
  readonly root: string;
  readonly files: readonly F[];
}

/** Progress of a fill, reported after the cache is looked up and after each decoded image. */
export interface DecodeProgress {
  /** Files handled: found in the cache, decoded, or bad. */
  readonly done: number;
  readonly total: number;
  /** Files decoded so far (cache misses). */
  readonly decoded: number;
  /** Files found in the cache. */
  readonly cached: number;
  /** Files that cannot be decoded (skipped). */
  readonly bad: number;
  /** Decoded images per second since decoding began. */
  readonly imagesPerSecond: number;
}

/** Options of {@link DecodeCache.fill}. */
export interface FillOptions {
  /** Worker threads for the misses; default `os.availableParallelism()`. Few misses run on the calling thread. */
  readonly threads?: number;
  /**
   * `false` (default): the first image that cannot be decoded stops the fill with an {@link ImageDecodeError} naming
   * it; `true`: such images are skipped and returned in `bad` (the `--skip-bad-images` of the CLI).
   */
  readonly skipBadImages?: boolean;
  /** Called with progress (for a progress bar). */
  readonly onProgress?: (progress: DecodeProgress) => void;
}

/** An image skipped by a fill. */
export interface BadImage {
  /** Relative to the list's root, as listed. */
  readonly path: string;
  readonly failure: ImageDecodeFailure;
  readonly reason: string;
}

/** What a fill did. */
export interface DecodeReport<F extends ImageFile = ImageFile> {
  /** The files whose pixels are in the cache, in listed order (all of them unless some were skipped). */
  readonly files: F[];
  /** The files skipped, in listed order (only with `skipBadImages`). */
  readonly bad: BadImage[];
  /** Cache misses decoded by this fill (bad ones included): 0 when everything was cached. */
  readonly decoded: number;
  /** Files found in the cache (bad ones recorded there included). */
  readonly cached: number;
  /** Seconds spent decoding, and decoded images per second (0 when nothing was decoded). */
  readonly decodeSeconds: number;
  readonly imagesPerSecond: number;
}

/** Lookups of the cache in flight at once. */
const LOOKUPS = 64;

/** Runs `task` on every index with at most `limit` at once. */
async function eachLimited(count: number, limit: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, lane));
}

/** A decode cache for one preprocessing and size. Open with {@link DecodeCache.open}. */
export class DecodeCache {
  /** The folder of this preprocessing's entries. */
  readonly folder: string;
  /** Bytes of one cached image: height x width x channels. */
  readonly imageBytes: number;
  /** The cached images' shape. */
  readonly height: number;
  readonly width: number;
  readonly channels: 1 | 3;
  private readonly settings: DecodeSettings;

  private constructor(folder: string, settings: DecodeSettings) {
    this.folder = folder;
    this.settings = settings;
    this.height = settings.size.height;
    this.width = settings.size.width;
    this.channels = settings.preprocessing.colour === 'grey' ? 1 : 3;
    this.imageBytes = this.height * this.width * this.channels;
  }

  /**
   * Opens (and creates) the cache folder for a preprocessing. Loads sharp, whose and libvips's versions are part of
   * the folder's key (another decoder may give other pixels).
   */
  static async open(options: DecodeCacheOptions): Promise<DecodeCache> {
    const preprocessing = parseWith(preprocessingSchema, options.preprocessing, 'decode cache preprocessing');
    checkSize(options.size, 'decode cache size');
    const sharp = await loadSharp();
    const keyed = {
      format: CACHE_FORMAT_VERSION,
      preprocessing: {
        resize: preprocessing.resize,
        interpolation: preprocessing.interpolation,
        cropFraction: preprocessing.cropFraction,
        colour: preprocessing.colour,
        background: preprocessing.background,
      },
      size: { height: options.size.height, width: options.size.width },
      decoder: { sharp: sharp.versions.sharp, vips: sharp.versions.vips },
    };
    const json = JSON.stringify(keyed);
    const key = createHash('sha256').update(json).digest('hex').slice(0, 16);
    const folder = join(options.dir, key);
    const described = join(folder, 'preprocessing.json');
    try {
      await stat(described);
    } catch {
      await writeFileAtomic(described, `${JSON.stringify(keyed, null, 2)}\n`);
    }
    const limitInputPixels = options.limitInputPixels ?? DEFAULT_LIMIT_INPUT_PIXELS;
    return new DecodeCache(folder, { preprocessing, size: options.size, limitInputPixels });
  }

  /** The entry file of a listed image (keyed by its absolute path, size and mtime as listed). */
  entryPath(root: string, file: ImageFile): string {
    const key = createHash('sha256')
      .update(`${join(root, file.path)}\n${file.size}\n${file.mtimeMs}`)
      .digest('hex')
      .slice(0, 32);
    return join(this.folder, key.slice(0, 2), `${key}.dfic`);
  }

  /** Reads an entry: its pixels, a recorded failure, or undefined when absent or torn. */
  private async lookup(root: string, file: ImageFile) {
    let bytes: Uint8Array;
    try {
      const buffer = await readFile(this.entryPath(root, file));
      // A plain Uint8Array view, not a Buffer: what callers get is the same type in Node and browsers.
      bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.length);
    } catch {
      return undefined;
    }
    return decodeEntry(bytes, this.height, this.width, this.channels);
  }

  /**
   * Decodes every listed image not in the cache yet, on `threads` workers, and reports what it did. Entries are keyed
   * by each file's path, size and mtime as listed: a file changed since it was listed keeps its old entry if it has
   * one, and is a bad image (`changed`) if it has none.
   *
   * @throws {@link ImageDecodeError} for the first bad image, naming it, unless `skipBadImages`.
   */
  async fill<F extends ImageFile>(list: ImageList<F>, options: FillOptions = {}): Promise<DecodeReport<F>> {
    const { root, files } = list;
    const skip = options.skipBadImages ?? false;
    const status = new Array<'ok' | 'bad' | 'miss'>(files.length);
    const failures = new Map<number, { failure: ImageDecodeFailure; reason: string }>();
    let cached = 0;
    let bad = 0;
    const markBad = (i: number, failure: ImageDecodeFailure, reason: string) => {
      status[i] = 'bad';
      failures.set(i, { failure, reason });
      bad++;
    };
    await eachLimited(files.length, LOOKUPS, async (i) => {
      const entry = await this.lookupHeader(root, files[i]!);
      if (entry === undefined) status[i] = 'miss';
      else {
        cached++;
        if (entry.kind === 'pixels') status[i] = 'ok';
        else markBad(i, entry.failure, entry.reason);
      }
    });
    // Without skipping, a failure recorded in the cache stops the fill before anything is decoded.
    const firstBad = status.indexOf('bad');
    if (!skip && firstBad >= 0) {
      const { failure, reason } = failures.get(firstBad)!;
      throw new ImageDecodeError(join(root, files[firstBad]!.path), reason, failure);
    }
    const misses = status.flatMap((s, i) => (s === 'miss' ? [i] : []));
    const jobs: DecodeJob[] = misses.map((i) => ({
      file: join(root, files[i]!.path),
      size: files[i]!.size,
      mtimeMs: files[i]!.mtimeMs,
      entry: this.entryPath(root, files[i]!),
    }));
    const started = performance.now();
    let decoded = 0;
    const progress = (): DecodeProgress => {
      const seconds = (performance.now() - started) / 1000;
      return {
        done: cached + decoded,
        total: files.length,
        decoded,
        cached,
        bad,
        imagesPerSecond: seconds > 0 ? decoded / seconds : 0,
      };
    };
    options.onProgress?.(progress());
    let stop: ImageDecodeError | undefined;
    await runDecodeJobs(jobs, this.settings, options.threads ?? defaultDecodeThreads(), (j, outcome) => {
      const i = misses[j]!;
      decoded++;
      if (outcome.kind === 'decoded') status[i] = 'ok';
      else {
        markBad(i, outcome.failure, outcome.reason);
        if (!skip) stop ??= new ImageDecodeError(jobs[j]!.file, outcome.reason, outcome.failure);
      }
      options.onProgress?.(progress());
      return stop === undefined;
    });
    if (stop) throw stop;
    const decodeSeconds = (performance.now() - started) / 1000;
    return {
      files: files.filter((_, i) => status[i] === 'ok'),
      bad: files.flatMap((f, i) => (status[i] === 'bad' ? [{ path: f.path, ...failures.get(i)! }] : [])),
      decoded,
      cached,
      decodeSeconds,
      imagesPerSecond: decoded > 0 && decodeSeconds > 0 ? decoded / decodeSeconds : 0,
    };
  }

  /**
   * Whether an entry exists and what it holds, from its size alone for pixel entries (one stat per image: a run's
   * start looks up every image; the header is checked when the pixels are read) and from its bytes for failures.
   */
  private async lookupHeader(root: string, file: ImageFile) {
    const path = this.entryPath(root, file);
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch {
      return undefined;
    }
    if (size === HEADER_BYTES + this.imageBytes) return { kind: 'pixels' as const };
    const entry = await this.lookup(root, file);
    // A torn pixel entry (only a failing disk makes one) is not whole: decoded again.
    return entry?.kind === 'bad' ? entry : undefined;
  }

  /**
   * The cached pixels of a listed image (HWC uint8 of the cache's shape).
   *
   * @throws an error naming the file when it is not in the cache (fill first) or was recorded as bad.
   */
  async read(root: string, file: ImageFile): Promise<Uint8Array> {
    const entry = await this.lookup(root, file);
    if (entry?.kind === 'pixels') return entry.pixels;
    const path = join(root, file.path);
    if (entry?.kind === 'bad') throw new ImageDecodeError(path, entry.reason, entry.failure);
    throw new Error(`${path}: not in the decode cache ${this.folder} (call fill() first, or the entry was removed)`);
  }
}
