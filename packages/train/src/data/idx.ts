/**
 * Reader for the IDX format of MNIST and Fashion-MNIST (yann.lecun.com/exdb/mnist, "FILE FORMATS"):
 * a magic number `00 00 TT ND`, ND big-endian uint32 dimension sizes, then the data, row-major.
 * Only the unsigned-byte type (TT = 0x08) is read: images use magic 0x00000803, labels 0x00000801.
 */
import { createGunzip } from 'node:zlib';
import { DatasetError } from './errors.js';
import { readDataFile } from './read.js';

/** An IDX array of unsigned bytes: its dimension sizes and its data, row-major. */
export interface IdxArray {
  /** Dimension sizes, outermost first: `[count, rows, cols]` for images, `[count]` for labels. */
  dims: number[];
  /** `product(dims)` bytes, row-major. */
  data: Uint8Array;
}

/** The IDX type byte for unsigned bytes, the only type MNIST-style datasets use. */
const IDX_UNSIGNED_BYTE = 0x08;

/** The other IDX type bytes, named so that an error can say what the file holds instead. */
const IDX_TYPE_NAMES: Readonly<Record<number, string>> = {
  8: 'unsigned byte',
  9: 'signed byte',
  11: 'int16',
  12: 'int32',
  13: 'float32',
  14: 'float64',
};

/** The two bytes every gzip stream starts with (RFC 1952, ID1 ID2). */
const GZIP_MAGIC = [0x1f, 0x8b] as const;

function hexByte(value: number): string {
  return `0x${value.toString(16).padStart(2, '0')}`;
}

function hexBytes(bytes: Uint8Array, count: number): string {
  return `0x${Array.from(bytes.subarray(0, count), (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** The most data bytes an IDX file may declare (1 GiB; EMNIST ByClass, the largest MNIST-style set, has 0.55 GB). */
export const MAX_IDX_DATA_BYTES = 2 ** 30;

/** What an IDX header declares. */
interface IdxHeader {
  dims: number[];
  /** `4 + 4 * dims.length`. */
  headerLength: number;
  /** `product(dims)`. */
  dataLength: number;
}

/**
 * Checks and reads the header at the start of `bytes` (which may hold more than the header): the two leading zero
 * bytes, the type byte, the number of dimensions, that the header fits, and that the data it declares stays under
 * {@link MAX_IDX_DATA_BYTES}.
 */
function readIdxHeader(bytes: Uint8Array, source: string): IdxHeader {
  if (bytes.length < 4) {
    throw new DatasetError({
      source,
      field: 'header',
      expected: 'at least 4 bytes (the IDX magic number)',
      received: `${bytes.length} bytes`,
    });
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new DatasetError({
      source,
      field: 'magic number',
      expected: 'two zero bytes, the type byte and the number of dimensions (0x00000803 images, 0x00000801 labels)',
      received: hexBytes(bytes, 4),
      hint: 'This is not an IDX file (a gzip file would start with 0x1f8b).',
    });
  }
  const type = bytes[2]!;
  if (type !== IDX_UNSIGNED_BYTE) {
    throw new DatasetError({
      source,
      field: 'type byte',
      expected: `${hexByte(IDX_UNSIGNED_BYTE)} (unsigned byte)`,
      received: `${hexByte(type)} (${IDX_TYPE_NAMES[type] ?? 'not an IDX type'})`,
    });
  }
  const ndims = bytes[3]!;
  if (ndims === 0) {
    throw new DatasetError({ source, field: 'number of dimensions', expected: 'at least 1', received: '0' });
  }
  const headerLength = 4 + 4 * ndims;
  if (bytes.length < headerLength) {
    throw new DatasetError({
      source,
      field: 'header',
      expected: `${headerLength} bytes (magic number and ${ndims} dimension sizes)`,
      received: `${bytes.length} bytes`,
    });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let dataLength = 1;
  for (let i = 0; i < ndims; i++) {
    const size = view.getUint32(4 + 4 * i, false);
    dims.push(size);
    dataLength *= size;
  }
  if (dataLength > MAX_IDX_DATA_BYTES) {
    // A header is read before its data: without this bound, the inflation cap below would be whatever it claims.
    throw new DatasetError({
      source,
      field: 'dimensions',
      expected: `at most ${MAX_IDX_DATA_BYTES} data bytes`,
      received: `${dims.join('x')} = ${dataLength} bytes`,
    });
  }
  return { dims, headerLength, dataLength };
}

/**
 * Parses an unsigned-byte IDX file already in memory (decompressed).
 *
 * Checks the two leading zero bytes, the type byte, that the header fits, and that the length is exactly
 * `4 + 4 * ndims + product(dims)`: a truncated download and a file with trailing bytes are both errors, since
 * either means the dimensions cannot be trusted.
 *
 * @param bytes - the whole file.
 * @param source - the file name, for error messages.
 * @returns the dimensions and a view (not a copy) of the data bytes.
 * @throws {@link DatasetError} naming `source`, the field, the expected and the found value.
 */
export function parseIdx(bytes: Uint8Array, source: string): IdxArray {
  const { dims, headerLength, dataLength } = readIdxHeader(bytes, source);
  const expectedLength = headerLength + dataLength;
  if (bytes.length !== expectedLength) {
    throw new DatasetError({
      source,
      field: 'file length',
      expected: `${expectedLength} bytes (${headerLength}-byte header + ${dims.join('x')} data bytes)`,
      received: `${bytes.length} bytes (${bytes.length < expectedLength ? 'truncated' : 'trailing bytes'})`,
    });
  }
  // A plain Uint8Array view, not a Buffer, so callers see the type they were promised.
  return { dims, data: new Uint8Array(bytes.buffer, bytes.byteOffset + headerLength, dataLength) };
}

/**
 * Inflates a gzipped IDX file, stopping as soon as the output passes the length its header declares: a gzip bomb
 * (gigabytes of zeros in a few megabytes) then costs at most that length plus one zlib chunk of memory, not its
 * inflated size. Length and content are checked afterwards by {@link parseIdx}.
 */
function gunzipIdx(bytes: Uint8Array, source: string): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    // 256 KiB output chunks: as fast as gunzipSync on Fashion-MNIST (16 KiB ones took twice as long), and the most a bomb
    // inflates past the declared length.
    const gunzip = createGunzip({ chunkSize: 256 * 1024 });
    const chunks: Buffer[] = [];
    let received = 0;
    let header: IdxHeader | undefined;
    let settled = false;
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      gunzip.destroy();
      reject(err);
    };
    gunzip.on('data', (chunk: Buffer) => {
      if (settled) return;
      chunks.push(chunk);
      received += chunk.length;
      if (header === undefined) {
        // The header is complete once the 4-byte magic and the ndims sizes it announces have arrived.
        const first = chunks.length === 1 ? chunk : Buffer.concat(chunks, received);
        if (first.length < 4 || first.length < 4 + 4 * first[3]!) return;
        try {
          header = readIdxHeader(first, source);
        } catch (err) {
          fail(err);
          return;
        }
      }
      const expected = header.headerLength + header.dataLength;
      if (received > expected) {
        fail(
          new DatasetError({
            source,
            field: 'inflated size',
            expected: `${expected} bytes (${header.headerLength}-byte header + ${header.dims.join('x')} data bytes)`,
            received: `more than ${expected} bytes (inflating stopped at ${received} of a ${bytes.length}-byte gzip file)`,
            hint: 'The file holds more data than its header declares: it is damaged, or not the dataset file it is named after.',
          }),
        );
      }
    });
    gunzip.on('error', (err) =>
      // zlib's own message ("unexpected end of file") names neither the file nor the likely cause.
      fail(
        new DatasetError({
          source,
          field: 'gzip stream',
          expected: 'a complete gzip stream',
          received: `one zlib cannot inflate (${err.message})`,
          hint: 'The file is probably truncated or damaged: download or install it again.',
          cause: err,
        }),
      ),
    );
    gunzip.on('end', () => {
      if (settled) return;
      settled = true;
      resolve(Buffer.concat(chunks, received));
    });
    gunzip.end(bytes);
  });
}

/** Whether `bytes` starts like a gzip stream. */
function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1];
}

/**
 * Reads an unsigned-byte IDX file, gunzipping it first when it starts with the gzip magic, whatever its name:
 * datasets are distributed gzipped (`*.gz`) but are often unpacked in place.
 *
 * @param path - the file to read.
 * @throws {@link DatasetError} when the file is missing, is a damaged gzip stream, inflates past the length its
 *   header declares (read no further), or is not a valid IDX file.
 */
export async function readIdxFile(path: string): Promise<IdxArray> {
  const bytes = await readDataFile(path, 'an IDX file, gzipped or not');
  return parseIdx(isGzip(bytes) ? await gunzipIdx(bytes, path) : bytes, path);
}
