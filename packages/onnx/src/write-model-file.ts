// Node-only: writing a model file atomically, so that a reader (a server watching models/) never sees half a file.
import { writeFileAtomic } from '@depthfold/core/node';

/**
 * Writes `bytes` to `path` through a temporary sibling `path.tmp-<pid>-<random>` and a rename, which replaces
 * the target in one step on the same file system (core's `writeFileAtomic`: the directory is created if needed
 * and the temporary file removed if anything fails).
 */
export async function writeModelFile(path: string, bytes: Uint8Array): Promise<void> {
  await writeFileAtomic(path, bytes);
}
