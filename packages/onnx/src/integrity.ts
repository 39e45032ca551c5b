// The digest of a model's graph and weights, kept in its own metadata_props: what it covers (every top-level record
// of the ModelProto but metadata_props, byte for byte, in file order), how it is computed (SHA-256 through
// SubtleCrypto, which Node 20 and browsers both have) and how it is written into a file without touching the rest.
// Browser-safe: no node APIs.
import { DepthfoldInputError } from '@depthfold/core';
import { decodeModelHeader, encodeMetadataProps, type StringStringEntryProto } from './onnx-proto.js';

/** ModelProto.metadata_props (onnx.proto v1.12.0): the one top-level field the digest leaves out. */
export const METADATA_PROPS_FIELD = 14;

/** The metadata_props key of the digest (JSON `{"sha256": "<hex>"}`), as `ModelMetadata.integrity` names it. */
export const INTEGRITY_KEY = 'integrity';

/** One top-level field record of a protobuf message: its number and the bytes of key and value. */
export interface WireRecord {
  field: number;
  start: number;
  end: number;
}

// A varint at `pos`: its value (exact below 2^53, which every length and key here is) and the position after it.
function readVarint(bytes: Uint8Array, pos: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= bytes.length) throw new Error(`a varint runs past the end at byte ${pos}`);
    const b = bytes[pos++]!;
    value += (b & 0x7f) * scale;
    if (b < 0x80) return [value, pos];
    scale *= 128;
  }
  throw new Error(`a varint longer than 10 bytes at byte ${pos - 10}`);
}

/**
 * Splits a protobuf message into its top-level records without decoding them.
 * @throws Error on bytes that are not a protobuf message (a record running past the end, a group or an unknown
 * wire type, field number 0); ONNX uses no groups.
 */
export function wireRecords(bytes: Uint8Array): WireRecord[] {
  const records: WireRecord[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const start = pos;
    const [key, afterKey] = readVarint(bytes, pos);
    const field = Math.floor(key / 8);
    const wireType = key % 8;
    if (field === 0) throw new Error(`field number 0 at byte ${start}`);
    pos = afterKey;
    if (wireType === 0) pos = readVarint(bytes, pos)[1];
    else if (wireType === 1) pos += 8;
    else if (wireType === 5) pos += 4;
    else if (wireType === 2) {
      const [length, afterLength] = readVarint(bytes, pos);
      pos = afterLength + length;
    } else throw new Error(`wire type ${wireType} (field ${field}) at byte ${start}`);
    if (pos > bytes.length)
      throw new Error(`field ${field} at byte ${start} runs past the end (${bytes.length} bytes)`);
    records.push({ field, start, end: pos });
  }
  return records;
}

function splitModel(bytes: Uint8Array, source: string): WireRecord[] {
  try {
    return wireRecords(bytes);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new DepthfoldInputError(
      source,
      'an ONNX model (ModelProto)',
      `${bytes.length} bytes that are not valid ONNX (${reason})`,
    );
  }
}

/**
 * The bytes the digest covers: the model file with its top-level metadata_props records cut out, the rest
 * concatenated in file order. Canonical in the sense that matters: it is the same whatever the metadata says and
 * wherever its records sit, so the digest can live in the metadata, and rewriting the metadata keeps it.
 * @param source - Names the model in errors.
 * @throws DepthfoldInputError when the bytes do not split into protobuf records.
 */
export function integrityPayload(bytes: Uint8Array, source = '(model bytes)'): Uint8Array {
  const kept = splitModel(bytes, source).filter((r) => r.field !== METADATA_PROPS_FIELD);
  const out = new Uint8Array(kept.reduce((n, r) => n + r.end - r.start, 0));
  let offset = 0;
  for (const r of kept) {
    out.set(bytes.subarray(r.start, r.end), offset);
    offset += r.end - r.start;
  }
  return out;
}

/** SHA-256 of `data` as lowercase hex, by SubtleCrypto. */
export async function sha256Hex(data: Uint8Array): Promise<string> {
  const subtle = (globalThis as { crypto?: { subtle?: SubtleCrypto } }).crypto?.subtle;
  if (subtle === undefined) {
    // Browsers give crypto.subtle to secure contexts only (https:, localhost); Node 20 always has it.
    throw new Error(
      'SubtleCrypto (crypto.subtle) is not available here: a browser offers it only on https: or localhost pages',
    );
  }
  const digest = new Uint8Array(await subtle.digest('SHA-256', data as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * The SHA-256 (hex) of a model's graph and weights: of {@link integrityPayload}.
 * @throws DepthfoldInputError for bytes that are not a protobuf message; Error where SubtleCrypto is missing.
 */
export async function modelDigest(bytes: Uint8Array, source = '(model bytes)'): Promise<string> {
  return sha256Hex(integrityPayload(bytes, source));
}

/**
 * The model file with `integrity` set to `{"sha256": digest}` in its metadata_props: every other record (graph,
 * weights, versions, opsets) is kept byte for byte and in order, the metadata entries keep their order and text, and
 * an existing `integrity` entry is replaced in place (a new one goes last).
 * @throws DepthfoldInputError for bytes that are not a protobuf message or a digest that is not 64 hex digits.
 */
export function withIntegrity(bytes: Uint8Array, digest: string, source = '(model bytes)'): Uint8Array {
  if (!/^[0-9a-f]{64}$/.test(digest))
    throw new DepthfoldInputError('integrity.sha256', '64 lowercase hex digits', digest);
  const records = splitModel(bytes, source);
  const props: StringStringEntryProto[] = [...(decodeModelHeader(bytes).metadata_props ?? [])];
  const entry = { key: INTEGRITY_KEY, value: JSON.stringify({ sha256: digest }) };
  const at = props.findIndex((p) => p.key === INTEGRITY_KEY);
  if (at >= 0) props[at] = entry;
  else props.push(entry);
  const kept = records.filter((r) => r.field !== METADATA_PROPS_FIELD);
  const metadata = encodeMetadataProps(props);
  const out = new Uint8Array(kept.reduce((n, r) => n + r.end - r.start, 0) + metadata.length);
  let offset = 0;
  for (const r of kept) {
    out.set(bytes.subarray(r.start, r.end), offset);
    offset += r.end - r.start;
  }
  out.set(metadata, offset);
  return out;
}

/** {@link withIntegrity} with the model's own digest: what `pnpm export` writes, and what stamps an older model. */
export async function stampIntegrity(bytes: Uint8Array, source = '(model bytes)'): Promise<Uint8Array> {
  return withIntegrity(bytes, await modelDigest(bytes, source), source);
}
