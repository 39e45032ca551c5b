// The errors of images that cannot be read: one line naming the file (or "image bytes") and the reason, so that a
// run that stops on one says which file to fix, and a run that skips them can list them.

/** What an image that is not a file is called in errors: bytes handed over by a caller, a request's row... */
export const IMAGE_BYTES = 'image bytes';

/**
 * Why an image could not be decoded:
 * - `unreadable`: the file could not be read (missing, no permission);
 * - `changed`: the file differs from the file list it was listed in (size or mtime);
 * - `empty`: 0 bytes;
 * - `unsupported`: not a PNG, JPEG, WebP, GIF or TIFF image (by its first bytes);
 * - `corrupt`: the decoder failed (corrupt or truncated data);
 * - `too-large`: more pixels than the limit, refused from the header before decoding (a decompression bomb);
 * - `wrong-size`: decoded, but of another size than the input's under resize `exact`.
 */
export type ImageDecodeFailure =
  | 'unreadable'
  | 'changed'
  | 'empty'
  | 'unsupported'
  | 'corrupt'
  | 'too-large'
  | 'wrong-size';

/** An image that cannot be decoded: corrupt, truncated, of an unsupported format, or too large to decode. */
export class ImageDecodeError extends Error {
  /** The file, as the caller named it, or {@link IMAGE_BYTES} (or the caller's name for them). */
  readonly file: string;
  /** Why, in one line, e.g. `corrupt or truncated JPEG: VipsJpeg: premature end of JPEG image`. */
  readonly reason: string;
  /** The kind of failure. */
  readonly failure: ImageDecodeFailure;

  constructor(file: string, reason: string, failure: ImageDecodeFailure) {
    const line = oneLine(reason);
    super(`${file}: ${line}`);
    this.name = 'ImageDecodeError';
    this.file = file;
    this.reason = line;
    this.failure = failure;
  }
}

/** A folder of images that cannot be used as a dataset: no classes, an empty class, a symlink loop... */
export class ImageFolderError extends Error {
  /** The folder or file at fault. */
  readonly path: string;
  /** Why, in one line. */
  readonly reason: string;

  constructor(path: string, reason: string) {
    const line = oneLine(reason);
    super(`${path}: ${line}`);
    this.name = 'ImageFolderError';
    this.path = path;
    this.reason = line;
  }
}

/** A message on one line: the lines of libraries' multi-line messages joined with "; ", each once. */
export function oneLine(text: string): string {
  const parts = text.split(/\s*\n\s*/).filter((part) => part.length > 0);
  return [...new Set(parts)].join('; ');
}
