/** Reads a whole dataset file, turning file-system failures into {@link DatasetError}s that name the path. */
import { readFile } from 'node:fs/promises';
import { DatasetError } from './errors.js';

/** Node's system errors carry a `code` ("ENOENT", "EACCES"...); anything else has none. */
function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}

/**
 * Reads the file at `path` into memory.
 *
 * @param path - the file to read.
 * @param what - what the file should be, for the error message ("an IDX file").
 * @throws {@link DatasetError} when the file is missing or cannot be read.
 */
export async function readDataFile(path: string, what: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (err) {
    const code = errorCode(err);
    throw new DatasetError({
      source: path,
      field: 'file',
      expected: `a readable file (${what})`,
      received: code === 'ENOENT' ? 'no such file' : `an error reading it (${code ?? String(err)})`,
      cause: err,
    });
  }
}
