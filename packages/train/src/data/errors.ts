/** The one error type of the dataset readers, with a message that names the file, the field, what was expected and what was found. */

/** What went wrong, in parts, so that every dataset error reads the same way. */
export interface DatasetErrorDetails {
  /** The file path, or the dataset name when no single file is at fault. */
  source: string;
  /** The field or part that is wrong: "magic number", "file length", "label 17"... */
  field: string;
  /** What the reader expected, in words a user can act on. */
  expected: string;
  /** What the reader found instead. */
  received: string;
  /** How to fix it (install command, where to put files), when there is something to say. */
  hint?: string;
  /** The underlying error (fs, zlib), kept for debugging. */
  cause?: unknown;
}

/**
 * Thrown for any missing, truncated or malformed dataset file.
 *
 * The message is `source: field: expected X, found Y. hint`; the parts are also kept as properties so
 * that a CLI or a test can look at them without parsing the message.
 */
export class DatasetError extends Error {
  override name = 'DatasetError';
  /** See {@link DatasetErrorDetails.source}. */
  readonly source: string;
  /** See {@link DatasetErrorDetails.field}. */
  readonly field: string;
  /** See {@link DatasetErrorDetails.expected}. */
  readonly expected: string;
  /** See {@link DatasetErrorDetails.received}. */
  readonly received: string;

  /** Builds the message from the parts; see {@link DatasetErrorDetails}. */
  constructor(details: DatasetErrorDetails) {
    const hint = details.hint === undefined ? '' : ` ${details.hint}`;
    super(
      `${details.source}: ${details.field}: expected ${details.expected}, found ${details.received}.${hint}`,
      details.cause === undefined ? undefined : { cause: details.cause },
    );
    this.source = details.source;
    this.field = details.field;
    this.expected = details.expected;
    this.received = details.received;
  }
}
