// The safetensors file format (a little-endian u64 header length, a JSON header, then raw little-endian data),
// used for checkpoints because it is simple, safe to parse and readable from Python and Rust as well.
import { DepthfoldInputError } from './errors.js';

/** A named float32 tensor. */
export interface NamedTensor {
  shape: readonly number[];
  data: Float32Array;
}

/** The tensors and string metadata of a safetensors file. */
export interface SafetensorsContent {
  tensors: Map<string, NamedTensor>;
  metadata: Record<string, string>;
}

const MAX_HEADER_BYTES = 100 * 1024 * 1024;

/** Serialises float32 tensors and string metadata to safetensors bytes. */
export function encodeSafetensors(
  tensors: ReadonlyMap<string, NamedTensor>,
  metadata: Record<string, string>,
): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of tensors) {
    const bytes = t.data.length * 4;
    if (t.data.length !== t.shape.reduce((a, b) => a * b, 1)) {
      throw new DepthfoldInputError(`tensor ${name}`, `${t.shape.join('x')} elements`, t.data.length);
    }
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  // The data must start 8-byte aligned; pad the header with spaces as the format allows.
  let json = JSON.stringify(header);
  while ((8 + new TextEncoder().encode(json).length) % 8 !== 0) json += ' ';
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const t of tensors.values()) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}

/** Parses safetensors bytes (float32 tensors only); `source` names the file in errors. */
export function decodeSafetensors(bytes: Uint8Array, source: string): SafetensorsContent {
  if (bytes.length < 8)
    throw new DepthfoldInputError(source, 'a safetensors file (at least 8 bytes)', `${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > MAX_HEADER_BYTES || 8 + headerLength > bytes.length) {
    throw new DepthfoldInputError(`${source} header length`, `at most ${bytes.length - 8} bytes`, headerLength);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as Record<string, unknown>;
  } catch {
    throw new DepthfoldInputError(`${source} header`, 'JSON', 'unparseable text');
  }
  const dataStart = 8 + headerLength;
  const tensors = new Map<string, NamedTensor>();
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const {
      dtype,
      shape,
      data_offsets: offsets,
    } = entry as { dtype: string; shape: number[]; data_offsets: [number, number] };
    if (dtype !== 'F32') throw new DepthfoldInputError(`${source} tensor ${name} dtype`, 'F32', dtype);
    const [begin, end] = offsets;
    const count = shape.reduce((a, b) => a * b, 1);
    if (end - begin !== count * 4 || dataStart + end > bytes.length) {
      throw new DepthfoldInputError(
        `${source} tensor ${name}`,
        `${count * 4} bytes inside the file`,
        `[${begin}, ${end}) of ${bytes.length - dataStart}`,
      );
    }
    // Copy: the source buffer may be unaligned for a Float32Array view.
    const data = new Float32Array(count);
    new Uint8Array(data.buffer).set(bytes.subarray(dataStart + begin, dataStart + end));
    tensors.set(name, { shape, data });
  }
  return { tensors, metadata };
}
