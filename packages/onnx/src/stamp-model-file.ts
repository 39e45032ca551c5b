// Node-only: adding the digest of graph and weights to a model exported before export wrote one, without touching
// anything but its metadata_props (what tools/stamp-model-digest.ts runs on the shipped models).
import { readFile } from 'node:fs/promises';
import { DepthfoldInputError } from '@depthfold/core';
import { integrityPayload, modelDigest, withIntegrity } from './integrity.js';
import { readModelMetadata } from './model-file.js';
import { writeModelFile } from './write-model-file.js';

/** What {@link stampModelFile} did to one file. */
export interface StampResult {
  path: string;
  /** `stamped`: the digest was added (or, with `force`, replaced); `unchanged`: the file already carried it. */
  action: 'stamped' | 'unchanged';
  sha256: string;
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

/**
 * Writes the SHA-256 of a model's graph and weights into its metadata_props (key `integrity`), atomically. The file
 * must already be a depthfold model (its metadata passes the schema). Before writing, the rewritten bytes are read
 * back: every record but metadata_props must be byte-identical to the original and the metadata must read the same
 * apart from the new digest, so the model classifies exactly as before.
 * @param options - `force`: replace a stored digest that does not match (only for a model edited on purpose;
 * otherwise such a file is refused, since stamping it would bless whatever changed it).
 * @throws DepthfoldInputError for a file that is not a depthfold model, or whose stored digest does not match.
 */
export async function stampModelFile(path: string, options: { force?: boolean } = {}): Promise<StampResult> {
  const bytes = new Uint8Array(await readFile(path));
  const before = readModelMetadata(bytes, path);
  const sha256 = await modelDigest(bytes, path);
  if (before.integrity?.sha256 === sha256) return { path, action: 'unchanged', sha256 };
  if (before.integrity !== undefined && !options.force) {
    throw new DepthfoldInputError(
      `${path} integrity.sha256`,
      `${sha256}, the digest of its graph and weights (pass --force to replace it)`,
      before.integrity.sha256,
    );
  }
  const stamped = withIntegrity(bytes, sha256, path);
  const after = readModelMetadata(stamped, path);
  if (!sameBytes(integrityPayload(stamped, path), integrityPayload(bytes, path)))
    throw new Error(`${path}: stamping changed the graph or weights`);
  if (
    JSON.stringify({ ...after, integrity: undefined }) !== JSON.stringify({ ...before, integrity: undefined }) ||
    after.integrity?.sha256 !== sha256
  ) {
    throw new Error(`${path}: stamping changed the metadata beyond the digest`);
  }
  await writeModelFile(path, stamped);
  return { path, action: 'stamped', sha256 };
}
