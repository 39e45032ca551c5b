// One cache miss: read a listed file, check it is still the file that was listed, decode it, preprocess it and
// write its cache entry. Run by the cache's worker threads, or by the calling thread when there are few misses.
import { mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DepthfoldInputError, type Preprocessing } from '@depthfold/core';
import { ImageDecodeError, type ImageDecodeFailure } from '../errors.js';
import { preprocessImage } from '../preprocess.js';
import type { ImageSize, PreprocessedImage } from '../raw-image.js';
import { HEADER_BYTES, encodeBadEntry, encodePixelsEntry } from './cache-entry.js';
import { decodeImageBytes } from './decode.js';

/** What every job of one cache shares. */
export interface DecodeSettings {
  readonly preprocessing: Preprocessing;
  readonly size: ImageSize;
  readonly limitInputPixels: number;
}

/** A listed file to decode into `entry`. */
export interface DecodeJob {
  /** Absolute path of the image. */
  readonly file: string;
  /** Size and mtime as listed: the file must still have them. */
  readonly size: number;
  readonly mtimeMs: number;
  /** The cache entry to write. */
  readonly entry: string;
}

/** A job's outcome: decoded into its entry, or bad (and why; failures of the bytes themselves are cached too). */
export type DecodeOutcome =
  | { readonly kind: 'decoded' }
  | { readonly kind: 'bad'; readonly failure: ImageDecodeFailure; readonly reason: string };

/** Failures that belong to the file's bytes, and so are cached: the same bytes fail the same way next time. */
const CACHED_FAILURES: readonly ImageDecodeFailure[] = ['empty', 'unsupported', 'corrupt', 'wrong-size'];

/** The length of a pixel entry of these settings. */
const pixelEntryBytes = (s: DecodeSettings): number =>
  HEADER_BYTES + s.size.height * s.size.width * (s.preprocessing.colour === 'grey' ? 1 : 3);

/** Entry folders known to exist: creating each of the 256 once, not once per image, saves a syscall per image. */
const madeDirs = new Set<string>();

/**
 * Writes an entry atomically: to `<entry>.tmp-<pid>-<random>` in the same folder, then renamed over the entry, so an
 * entry is whole or absent whatever stops the process (core's writeFileAtomic, less its mkdir per file).
 */
async function writeEntry(path: string, bytes: Uint8Array): Promise<void> {
  const dir = dirname(path);
  if (!madeDirs.has(dir)) {
    await mkdir(dir, { recursive: true });
    madeDirs.add(dir);
  }
  const temp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    try {
      await writeFile(temp, bytes);
    } catch (error) {
      // The folder was removed since it was made (a cache cleared while this process runs): make it again.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      await mkdir(dir, { recursive: true });
      await writeFile(temp, bytes);
    }
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** Runs one job; errors other than the image's own (a full disk...) are thrown. */
export async function runDecodeJob(job: DecodeJob, settings: DecodeSettings): Promise<DecodeOutcome> {
  let bytes: Uint8Array;
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(job.file, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    return { kind: 'bad', failure: 'unreadable', reason: `cannot read the file (${code})` };
  }
  try {
    // Checked on the open file, so the bytes read are the bytes whose size and mtime were compared.
    const s = await handle.stat();
    if (s.size !== job.size || s.mtimeMs !== job.mtimeMs)
      return {
        kind: 'bad',
        failure: 'changed',
        reason: `changed since it was listed (size ${job.size} -> ${s.size} bytes, mtime ${new Date(job.mtimeMs).toISOString()} -> ${new Date(s.mtimeMs).toISOString()}) and not in the cache: list the folder again`,
      };
    bytes = await handle.readFile();
  } finally {
    await handle.close();
  }
  let failure: ImageDecodeError;
  try {
    const image = await decodeImageBytes(bytes, job.file, settings.limitInputPixels);
    let input: PreprocessedImage;
    try {
      input = preprocessImage(image, settings.preprocessing, settings.size);
    } catch (error) {
      // The one preprocessing error an image can cause: another size than the input's under resize 'exact'.
      if (!(error instanceof DepthfoldInputError)) throw error;
      throw new ImageDecodeError(job.file, error.message, 'wrong-size');
    }
    await writeEntry(job.entry, encodePixelsEntry(input.data, input.height, input.width, input.channels));
    return { kind: 'decoded' };
  } catch (error) {
    if (!(error instanceof ImageDecodeError)) throw error;
    failure = error;
  }
  if (CACHED_FAILURES.includes(failure.failure))
    await writeEntry(job.entry, encodeBadEntry(failure.failure, failure.reason, pixelEntryBytes(settings)));
  return { kind: 'bad', failure: failure.failure, reason: failure.reason };
}
