// Node file I/O shared by the CLIs: checkpoint files, written atomically (temp file + rename) so an interrupted run never leaves a torn file.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { decodeCheckpoint, encodeCheckpoint, type Checkpoint } from '../index.js';

/** Options of {@link writeFileAtomic}. */
export interface AtomicWriteOptions {
  /**
   * Called once the temporary file is complete, before the rename: the one instant at which a kill leaves the temp
   * file behind. Tests stop the process here to check that what remains can be recovered.
   */
  onTempWritten?(tempPath: string): void | Promise<void>;
}

/** The temporary file {@link writeFileAtomic} writes first: `<path>.tmp-<pid>-<random>`, the pid being the writer's. */
const TEMP_NAME = /^(.+)\.tmp-(\d+)-[0-9a-z]+$/;

/** Error codes of a full disk or an exhausted quota. */
const NO_SPACE = new Set(['ENOSPC', 'EDQUOT']);

/**
 * Writes `bytes` to `path` through a temporary file in the same directory and a rename.
 * @throws Error naming the file and its directory, and saying that the previous file is intact, when the disk is
 * full (the temporary file is removed); any other error as it came.
 */
export async function writeFileAtomic(
  path: string,
  bytes: Uint8Array | string,
  options: AtomicWriteOptions = {},
): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    await writeFile(tmp, bytes);
    await options.onTempWritten?.(tmp);
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== undefined && NO_SPACE.has(code)) {
      throw new Error(
        `no space left on the device of ${dirname(path)} (${code}) while writing ${path}: ` +
          `the previous ${basename(path)} there is intact (the new one went to a temporary file, now removed); free some space and run again`,
        { cause: error },
      );
    }
    throw error;
  }
}

/** Whether a process with this id runs (one of another user counts: it exists, we just may not signal it). */
function processRuns(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temporary files that {@link writeFileAtomic} left in `dir` beside the files named `targets` when its
 * process was killed before the rename. A temp file whose writer still runs (another process writing the same file
 * now) is left alone, as is every other file. A missing `dir` has none.
 *
 * @param dir - the directory to clean.
 * @param targets - the base names of the files whose temp files may be removed (`checkpoint.safetensors`...).
 * @returns the paths removed.
 */
export async function removeStaleTempFiles(dir: string, targets: readonly string[]): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const removed: string[] = [];
  for (const name of names) {
    const match = TEMP_NAME.exec(name);
    if (!match || !targets.includes(match[1]!) || processRuns(Number(match[2]))) continue;
    await rm(join(dir, name), { force: true });
    removed.push(join(dir, name));
  }
  return removed;
}

/** Writes a checkpoint atomically. */
export async function saveCheckpoint(
  path: string,
  checkpoint: Checkpoint,
  options: AtomicWriteOptions = {},
): Promise<void> {
  await writeFileAtomic(path, encodeCheckpoint(checkpoint), options);
}

/** Reads and validates a checkpoint file; also returns the SHA-256 of its bytes. */
export async function loadCheckpoint(path: string): Promise<Checkpoint & { sha256: string }> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(
      `checkpoint: cannot read ${path} (${code ?? String(error)}); train first with \`pnpm train\` or pass --checkpoint PATH`,
    );
  }
  const checkpoint = decodeCheckpoint(bytes, path);
  return { ...checkpoint, sha256: createHash('sha256').update(bytes).digest('hex') };
}
