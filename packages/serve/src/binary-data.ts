// Triton's binary tensor data extension (triton-inference-server/server docs/protocol/extension_binary_data.md):
// a body whose first `Inference-Header-Content-Length` bytes are the JSON inference header, followed by each
// binary tensor's raw bytes (little-endian, row-major) in the order of the tensors that declare
// `parameters.binary_data_size`. BYTES elements are each a 4-byte little-endian length, then the bytes.
import { endianness } from 'node:os';
import { DepthfoldInputError } from '@depthfold/core';
import { HttpError } from './errors.js';

/** The header naming the JSON part's length in a binary request or reply. */
export const HEADER_LENGTH_HEADER = 'Inference-Header-Content-Length';

// Typed arrays are read and written in the host's byte order, and the protocol's is little-endian; every platform
// onnxruntime-node ships for is little-endian, so this only guards against a surprise.
if (endianness() !== 'LE')
  throw new Error('@depthfold/serve reads binary tensor data as little-endian and needs a little-endian host');

/** A binary request body split into its JSON header and the binary tensor data after it. */
export interface BinaryBody {
  readonly header: Buffer;
  readonly binary: Buffer;
}

/**
 * Splits a body by its `Inference-Header-Content-Length` value.
 * @throws HttpError 400 naming the header when its value is not an integer from 0 to the body's length.
 */
export function splitBinaryBody(body: Buffer, headerLength: string | string[]): BinaryBody {
  const text = Array.isArray(headerLength) ? headerLength.join(',') : headerLength;
  const length = /^\d{1,15}$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  if (!Number.isInteger(length) || length > body.length) {
    throw new HttpError(
      400,
      `${HEADER_LENGTH_HEADER}: expected the JSON header's length in bytes, an integer from 0 to the body's ${body.length}, received ${JSON.stringify(text)}`,
    );
  }
  return { header: body.subarray(0, length), binary: body.subarray(length) };
}

/**
 * Reads the `binary_data_size` parameter of a tensor.
 * @returns the size, or undefined when the tensor has none.
 * @throws DepthfoldInputError when it is not an integer >= 0.
 */
export function binaryDataSize(value: unknown, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0)
    throw new DepthfoldInputError(field, 'a size in bytes (an integer >= 0)', value, 'inference request');
  return value;
}

/** The elements of `bytes` as float32 (copied: a slice of the body need not be 4-byte aligned). */
export function float32Of(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.length / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

/** BYTES elements in the extension's layout: each a 4-byte little-endian length, then its UTF-8 bytes. */
export function encodeBytesElements(values: readonly string[]): Buffer {
  const parts = values.map((v) => Buffer.from(v, 'utf8'));
  const out = Buffer.allocUnsafe(parts.reduce((n, p) => n + 4 + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.writeUInt32LE(p.length, at);
    p.copy(out, at + 4);
    at += 4 + p.length;
  }
  return out;
}

/**
 * Splits BYTES elements written by {@link encodeBytesElements} back into strings.
 * @throws Error when a length runs past the data.
 */
export function decodeBytesElements(bytes: Uint8Array): string[] {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: string[] = [];
  for (let at = 0; at < buffer.length; ) {
    if (at + 4 > buffer.length)
      throw new Error(
        `BYTES element at byte ${at}: a 4-byte length needs ${at + 4} bytes, the data has ${buffer.length}`,
      );
    const length = buffer.readUInt32LE(at);
    if (at + 4 + length > buffer.length)
      throw new Error(`BYTES element at byte ${at}: length ${length} runs past the data's ${buffer.length} bytes`);
    out.push(buffer.toString('utf8', at + 4, at + 4 + length));
    at += 4 + length;
  }
  return out;
}
