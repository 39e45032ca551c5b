// The error type of the dataset readers: a DepthfoldInputError (field, expected, received) that also names the
// file and says how to get the data.
import { DepthfoldInputError } from '@depthfold/core';

/** What went wrong, in parts, so that every dataset error reads the same way. */
export interface DatasetErrorDetails {
  /** The file path, or the dataset name when no single file is at fault. */
  source: string;
  /** The field or part that is wrong: "magic number", "file length", "label 17"... */
  field: string;
  /** What the reader expected, in words a user can act on. */
  expected: string;
  /** What the reader received instead. */
  received: string;
  /** How to fix it (install command, where to put files), when there is something to say. */
  hint?: string;
  /** The underlying error (fs, zlib), kept for debugging. */
  cause?: unknown;
}

/**
 * Thrown for any missing, truncated or malformed dataset file.
 *
 * The message is `source: field: expected X, received Y. hint`; the parts are also kept as properties so
 * that a CLI or a test can look at them without parsing the message.
 */
export class DatasetError extends DepthfoldInputError {
  override name = 'DatasetError';
  /** See {@link DatasetErrorDetails.source}. */
  readonly source: string;

  /** Builds the message from the parts; see {@link DatasetErrorDetails}. */
  constructor(details: DatasetErrorDetails) {
    const hint = details.hint === undefined ? '' : ` ${details.hint}`;
    super(details.field, details.expected, details.received, details.source);
    // The received value is already rendered for a person; keep it unquoted, and add how to fix it.
    this.message = `${details.source}: ${details.field}: expected ${details.expected}, received ${details.received}.${hint}`;
    if (details.cause !== undefined) this.cause = details.cause;
    this.source = details.source;
  }
}
