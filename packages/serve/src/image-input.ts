// A BYTES input: one encoded image (PNG, JPEG, WebP, GIF or TIFF) per batch row, as Triton's clients send images to
// a preprocessing ensemble. Its elements arrive three ways, each the protocol's own way of carrying BYTES:
//   - JSON `data`: strings. The protocol's JSON BYTES element is a UTF-8 string, which cannot hold an image's bytes;
//     each is base64 (RFC 4648, standard alphabet), and the input says so with `parameters.content_type: "base64"`
//     (the Open Inference Protocol's content type, as KServe's and MLServer's codecs name it), never guessed;
//   - binary tensor data (HTTP) and gRPC `raw_input_contents`: each element a 4-byte little-endian length, then the
//     bytes, as tritonclient's serialize_byte_tensor writes them;
//   - gRPC `contents.bytes_contents`: one bytes field per element.
// Here the elements are split and counted; the images are decoded by image-decoder.ts.
import { DepthfoldInputError } from '@depthfold/core';
import type { ImageDecodeFailure } from '@depthfold/images';
import type { Parameters } from './protocol.js';

const CONTEXT = 'inference request';

/** The `parameters.content_type` a JSON BYTES input of images declares: its strings are base64. */
export const BASE64_CONTENT_TYPE = 'base64';

/** What a BYTES row must hold, as errors say it. */
export const IMAGE_EXPECTED = 'an encoded PNG, JPEG, WebP, GIF or TIFF image';

/** The encoded images of a request, one per row, and what errors call each. */
export interface EncodedImages {
  /** Row r's bytes; views into the request's body, not copies. */
  readonly rows: readonly Uint8Array[];
  /** The field that carried row r, e.g. `inputs[0].data[2]` or `raw_input_contents[0] element 2`. */
  readonly fields: readonly string[];
}

/**
 * An image of a BYTES input that cannot be used: empty, not an image, corrupt, over the pixel limit, or of another
 * size than the input under resize `exact`. A DepthfoldInputError, so a 400 (gRPC INVALID_ARGUMENT); its message
 * names the field and the row, and gives the decoder's reason whole.
 */
export class ImageRowError extends DepthfoldInputError {
  /** The batch row, from 0. */
  readonly row: number;
  /** The kind of failure, as @depthfold/images names it. */
  readonly failure: ImageDecodeFailure;
  /** Why, in one line. */
  readonly reason: string;

  constructor(field: string, row: number, rows: number, failure: ImageDecodeFailure, reason: string) {
    super(field, IMAGE_EXPECTED, reason, CONTEXT);
    // The reason is not quoted or shortened as a received value would be: it is the decoder's sentence, and its end
    // (a size, a limit) is what the client needs.
    this.message = `${CONTEXT}: ${field} (row ${row} of ${rows}): expected ${IMAGE_EXPECTED}, received ${reason}`;
    this.name = 'ImageRowError';
    this.row = row;
    this.failure = failure;
    this.reason = reason;
  }
}

/**
 * The batch size of a BYTES input's shape: `[N]`, or `[N, 1]` as Triton's image clients send it.
 * @throws DepthfoldInputError naming `inputs[0].shape`.
 */
export function imageRowsOf(shape: readonly number[], maxBatch: number): number {
  const [rows = 0, one] = shape;
  const fits = shape.length === 1 || (shape.length === 2 && one === 1);
  if (!fits || rows < 1 || rows > maxBatch)
    throw new DepthfoldInputError(
      'inputs[0].shape',
      `[N] or [N, 1] for BYTES (one encoded image per row) with N from 1 to ${maxBatch} (the max batch size)`,
      shape,
      CONTEXT,
    );
  return rows;
}

// Strict base64: Buffer.from(text, 'base64') skips characters outside the alphabet, so a mangled string would
// decode to other bytes without a word. The alphabet is one character class (a pattern of 4-character groups
// overflows V8's regexp stack on a string of megabytes); the length rules are checked apart.
const BASE64_CHARACTERS = /^[A-Za-z0-9+/]*={0,2}$/;

/** True for standard base64 (RFC 4648), padded or not. */
export function isBase64(text: string): boolean {
  if (!BASE64_CHARACTERS.test(text)) return false;
  const padded = text.endsWith('=');
  // Unpadded, a last group of 1 character is impossible; padded, the groups are whole.
  return padded ? text.length % 4 === 0 : text.length % 4 !== 1;
}

/**
 * The images of a BYTES input's typed data: JSON strings (base64, declared by `parameters.content_type`) or, from
 * gRPC's `bytes_contents`, bytes. Nested JSON data must have the declared shape (`[["..."], ["..."]]` for `[2, 1]`).
 * @param field - Names the data, e.g. `inputs[0].data`.
 * @throws DepthfoldInputError naming the parameter, the count, or the element at fault.
 */
export function imagesFromData(
  data: readonly unknown[],
  shape: readonly number[],
  parameters: Parameters | undefined,
  field: string,
): EncodedImages {
  const rows = shape[0]!;
  const elements: unknown[] = [];
  const paths: string[] = [];
  data.forEach((item, i) => {
    if (shape.length === 2 && Array.isArray(item)) {
      if (item.length !== 1)
        throw new DepthfoldInputError(
          `${field}[${i}]`,
          `1 item (dimension 1 of shape [${shape.join(', ')}])`,
          `${item.length}`,
          CONTEXT,
        );
      elements.push(item[0]);
      paths.push(`${field}[${i}][0]`);
    } else {
      elements.push(item);
      paths.push(`${field}[${i}]`);
    }
  });
  if (elements.length !== rows)
    throw new DepthfoldInputError(
      field,
      `${rows} elements (shape [${shape.join(', ')}]: one encoded image per row)`,
      elements.length,
      CONTEXT,
    );
  const strings = elements.some((e) => typeof e === 'string');
  const contentType = parameters?.content_type;
  if (strings && contentType !== BASE64_CONTENT_TYPE)
    throw new DepthfoldInputError(
      'inputs[0].parameters.content_type',
      `"${BASE64_CONTENT_TYPE}" (JSON BYTES strings cannot hold an image's bytes: send each image base64-encoded and say so, or send the images as binary tensor data)`,
      contentType,
      CONTEXT,
    );
  const out = elements.map((element, i) => {
    if (element instanceof Uint8Array) return element;
    if (typeof element !== 'string')
      throw new DepthfoldInputError(paths[i]!, `a base64 string of ${IMAGE_EXPECTED}`, element, CONTEXT);
    if (!isBase64(element))
      throw new DepthfoldInputError(
        paths[i]!,
        'base64 (RFC 4648: A-Z a-z 0-9 + /, padded with = or not, nothing else)',
        `${element.length} characters that are not`,
        CONTEXT,
      );
    return Buffer.from(element, 'base64');
  });
  return { rows: out, fields: paths };
}

/**
 * The images of a BYTES input's binary data: each a 4-byte little-endian length, then the image's bytes, exactly
 * `rows` of them and nothing after.
 * @param where - Names the data, e.g. `inputs[0] binary data` or `raw_input_contents[0]`.
 * @throws DepthfoldInputError naming the element whose length runs past the data, or the count.
 */
export function imagesFromBinary(binary: Uint8Array, rows: number, where: string): EncodedImages {
  const view = new DataView(binary.buffer, binary.byteOffset, binary.byteLength);
  const out: Uint8Array[] = [];
  const fields: string[] = [];
  let at = 0;
  while (at < binary.length) {
    const i = out.length;
    if (i === rows)
      throw new DepthfoldInputError(
        where,
        `${rows} BYTES elements (one encoded image per row), each a 4-byte little-endian length and its bytes`,
        `${binary.length - at} more bytes after element ${rows - 1}`,
        CONTEXT,
      );
    if (at + 4 > binary.length)
      throw new DepthfoldInputError(
        `${where} element ${i}`,
        'a 4-byte little-endian length, then that many bytes',
        `${binary.length - at} bytes`,
        CONTEXT,
      );
    const length = view.getUint32(at, true);
    if (at + 4 + length > binary.length)
      throw new DepthfoldInputError(
        `${where} element ${i}`,
        `at most the ${binary.length - at - 4} bytes left after its 4-byte length`,
        `a length of ${length}`,
        CONTEXT,
      );
    out.push(binary.subarray(at + 4, at + 4 + length));
    fields.push(`${where} element ${i}`);
    at += 4 + length;
  }
  if (out.length !== rows)
    throw new DepthfoldInputError(
      where,
      `${rows} BYTES elements (one encoded image per row), each a 4-byte little-endian length and its bytes`,
      `${out.length}`,
      CONTEXT,
    );
  return { rows: out, fields };
}
