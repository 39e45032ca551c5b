// Node file I/O shared by the CLIs: checkpoint files, written atomically (temp file + rename) so an interrupted run never leaves a torn file.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { decodeCheckpoint, encodeCheckpoint, type Checkpoint } from '../index.js';

/** Writes `bytes` to `path` through a temporary file in the same directory and a rename. */
export async function writeFileAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

/** Writes a checkpoint atomically. */
export async function saveCheckpoint(path: string, checkpoint: Checkpoint): Promise<void> {
  await writeFileAtomic(path, encodeCheckpoint(checkpoint));
}

/** Reads and validates a checkpoint file; also returns the SHA-256 of its bytes. */
export async function loadCheckpoint(path: string): Promise<Checkpoint & { sha256: string }> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(`checkpoint: cannot read ${path} (${code ?? String(error)}); train first with \`pnpm train\` or pass --checkpoint PATH`);
  }
  const checkpoint = decodeCheckpoint(bytes, path);
  return { ...checkpoint, sha256: createHash('sha256').update(bytes).digest('hex') };
}
