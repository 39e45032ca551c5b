// A file in a fresh temporary directory, for tests that hand a path to the code under test.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A file written into its own temporary directory, and the function that removes both. */
export interface TempFile {
  readonly path: string;
  readonly dir: string;
  readonly cleanup: () => void;
}

/**
 * Writes `contents` to `name` in a fresh directory under the system's temporary directory.
 * @param prefix - Starts the directory's name, e.g. `depthfold-serve-`, so that a leftover says whose it is.
 */
export function tempFile(name: string, contents: Uint8Array | string, prefix = 'depthfold-test-'): TempFile {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const path = join(dir, name);
  writeFileSync(path, contents);
  return { path, dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
